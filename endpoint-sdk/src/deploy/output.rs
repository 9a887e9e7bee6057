//! Writing a deployment's progress to the user's output.

use super::error::DeployError;

pub(super) fn write_line(
    out: &mut (dyn std::io::Write + Send),
    text: &str,
) -> Result<(), DeployError> {
    writeln!(out, "{text}").map_err(|source| DeployError::Io {
        context: "writing the deployment's output".into(),
        source,
    })
}

pub(super) fn write_text(
    out: &mut (dyn std::io::Write + Send),
    text: &str,
) -> Result<(), DeployError> {
    out.write_all(text.as_bytes())
        .map_err(|source| DeployError::Io {
            context: "writing the deployment's output".into(),
            source,
        })
}
