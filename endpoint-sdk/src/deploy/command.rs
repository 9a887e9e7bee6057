//! The `deploy` and `undeploy` subcommands: their options, and the glue from the command line to
//! the library functions of [`crate::deploy`].

use std::path::PathBuf;

use clap::Args;

use super::deployment::{DeployOptions, deploy};
use super::dockerfile::{CudaBuild, DockerfileOptions, dockerfile};
use super::error::DeployError;
use super::management::{DEFAULT_API_URL, ManagementApi};
use super::manifest::Manifest;
use super::undeploy::undeploy;
use crate::handler::EndpointDef;
use crate::protocol::vars::{RUNPOD_API_KEY, RUNPOD_API_URL};

/// Options of `deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// The container image every endpoint runs, e.g. `ghcr.io/acme/agent:0.3.1` (build it with the
    /// Dockerfile from `--emit-dockerfile` and push it first).
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// Print the diff, the exact management API requests and a cost estimate; send nothing.
    /// Reads the account when RUNPOD_API_KEY is set, otherwise plans every endpoint as new.
    #[arg(long)]
    pub dry_run: bool,
    /// Write a multi-stage Dockerfile for this binary to PATH (default `Dockerfile`; `-` prints
    /// it) and exit.
    #[arg(
        long,
        value_name = "PATH",
        num_args = 0..=1,
        default_missing_value = "Dockerfile"
    )]
    pub emit_dockerfile: Option<PathBuf>,
    /// The cargo package of the binary, for the Dockerfile (when its name is ambiguous).
    #[arg(long, requires = "emit_dockerfile")]
    pub package: Option<String>,
    /// For GPU endpoints: build on NVIDIA's CUDA images with the binary's `cuda` cargo feature
    /// (e.g. candle's CUDA kernels), for the lowest `min_cuda_version` of the GPU endpoints.
    #[arg(long, requires = "emit_dockerfile")]
    pub cuda: bool,
    /// The management API's base URL.
    #[arg(long, env = RUNPOD_API_URL, default_value = DEFAULT_API_URL)]
    pub api_url: String,
    /// Delete and re-create endpoints that cannot be updated in place (GPU ↔ CPU, or a
    /// load-balancer endpoint of the same name): they get new ids and lose queued jobs. With
    /// `--emit-dockerfile`: overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Take over endpoints of the same name that this application did not deploy.
    #[arg(long)]
    pub adopt: bool,
    /// The application's name, which marks its endpoints (default: the binary's name).
    #[arg(long)]
    pub app: Option<String>,
}

/// Options of `undeploy`.
#[derive(Debug, Clone, Args)]
pub struct UndeployArgs {
    /// Print the DELETE requests; send nothing (the account is still read, to find the ids).
    #[arg(long)]
    pub dry_run: bool,
    /// The management API's base URL.
    #[arg(long, env = RUNPOD_API_URL, default_value = DEFAULT_API_URL)]
    pub api_url: String,
    /// Also delete endpoints of the same names that this application did not deploy.
    #[arg(long)]
    pub force: bool,
    /// The application's name (default: the binary's name).
    #[arg(long)]
    pub app: Option<String>,
}

fn api_key() -> Option<String> {
    std::env::var(RUNPOD_API_KEY)
        .ok()
        .filter(|k| !k.trim().is_empty())
}

fn app(name: Option<String>) -> String {
    name.unwrap_or_else(super::manifest::app_name)
}

/// `deploy`: emits the Dockerfile, or plans (and unless `--dry-run` sends) the deployment of
/// `defs`.
pub async fn run_deploy(defs: &[EndpointDef], args: DeployArgs) -> Result<(), DeployError> {
    if let Some(path) = &args.emit_dockerfile {
        let mut opts = DockerfileOptions::for_current_exe();
        opts.package = args.package.clone();
        if args.cuda {
            opts.cuda = Some(CudaBuild::for_min_cuda(&lowest_min_cuda(defs)));
        }
        return emit_dockerfile(path, &dockerfile(&opts), args.force);
    }
    let mut manifest = Manifest::new(app(args.app), defs)?;
    manifest.image = args.image;
    let opts = DeployOptions {
        api_url: args.api_url,
        api_key: api_key(),
        dry_run: args.dry_run,
        force: args.force,
        adopt: args.adopt,
    };
    deploy(
        &manifest,
        &opts,
        &|k| std::env::var(k).ok(),
        &mut std::io::stdout(),
    )
    .await
    .map(|_| ())
}

/// The lowest `min_cuda_version` of the GPU endpoints (the platform's default without any).
fn lowest_min_cuda(defs: &[EndpointDef]) -> String {
    let key = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    defs.iter()
        .filter_map(|d| match &d.config.hardware {
            crate::config::Hardware::Gpu {
                min_cuda_version, ..
            } => Some(min_cuda_version.to_string()),
            crate::config::Hardware::Cpu { .. } => None,
        })
        .min_by_key(|v| key(v))
        .unwrap_or_else(|| endpoint_config::catalog::DEFAULT_MIN_CUDA_VERSION.to_string())
}

/// `undeploy`: deletes the endpoints of `defs` that this application deployed.
pub async fn run_undeploy(defs: &[EndpointDef], args: UndeployArgs) -> Result<(), DeployError> {
    let manifest = Manifest::new(app(args.app), defs)?;
    let key = api_key().ok_or(DeployError::NoApiKey)?;
    let api = ManagementApi::new(args.api_url, key);
    undeploy(
        &manifest,
        &api,
        args.dry_run,
        args.force,
        &mut std::io::stdout(),
    )
    .await
    .map(|_| ())
}

fn emit_dockerfile(path: &std::path::Path, text: &str, force: bool) -> Result<(), DeployError> {
    let io = |context: String| move |source| DeployError::Io { context, source };
    if path.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(old) if old == text => {
            println!("{shown} is up to date");
            return Ok(());
        }
        Ok(_) if !force => return Err(DeployError::DockerfileExists(shown)),
        _ => {}
    }
    std::fs::write(path, text).map_err(io(format!("writing {shown}")))?;
    println!(
        "wrote {shown}: build and push the image, then `deploy --image <registry>/<name>:<version>`"
    );
    Ok(())
}
