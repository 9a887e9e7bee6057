//! The platform's URLs, parsed once: a job-take URL per batch size, and each result URL made
//! from a parsed template by setting its path. Parsing a whole URL for every request (its host
//! through IDNA, its query) was a tenth of what a short job cost the worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::{Method, Url};

use super::env::WorkerEnv;

/// Stands for the job id in a parsed template (no URL would hold it otherwise).
const JOB: &str = "__endpoint_sdk_job_id__";

/// Where a request goes: a parsed URL, or the text when it does not parse (the request then
/// fails as reqwest reports it, as before).
pub(super) enum Target {
    Parsed(Url),
    Text(String),
}

impl Target {
    fn parse(text: String) -> Target {
        match Url::parse(&text) {
            Ok(u) => Target::Parsed(u),
            Err(_) => Target::Text(text),
        }
    }

    /// A request to this target.
    pub(super) fn request(self, http: &reqwest::Client, method: Method) -> reqwest::RequestBuilder {
        match self {
            Target::Parsed(u) => http.request(method, u),
            Target::Text(t) => http.request(method, t.as_str()),
        }
    }
}

/// A result URL with the job id in its path: the parsed URL, and its path around the id.
#[derive(Clone)]
struct PerJob {
    url: Url,
    path: String,
}

impl PerJob {
    /// The template with [`JOB`] for the id, when the id sits in the path only.
    fn new(text: String) -> Option<PerJob> {
        let url = Url::parse(&text).ok()?;
        let in_path = url.path().contains(JOB);
        let elsewhere = url.query().is_some_and(|q| q.contains(JOB))
            || url.host_str().is_some_and(|h| h.contains(JOB));
        (in_path && !elsewhere).then(|| PerJob {
            path: url.path().to_string(),
            url,
        })
    }

    fn for_job(&self, job: &str) -> Url {
        let mut url = self.url.clone();
        url.set_path(&self.path.replace(JOB, job));
        url
    }
}

/// The worker's platform URLs.
#[derive(Clone)]
pub(super) struct Urls {
    env: WorkerEnv,
    takes: Arc<Mutex<HashMap<(usize, bool), Url>>>,
    done: Option<PerJob>,
    done_stream: Option<PerJob>,
    stream: Option<PerJob>,
}

impl Urls {
    pub(super) fn new(env: &WorkerEnv) -> Urls {
        Urls {
            env: env.clone(),
            takes: Arc::default(),
            done: PerJob::new(env.done_url(JOB, false)),
            done_stream: PerJob::new(env.done_url(JOB, true)),
            stream: PerJob::new(env.stream_url(JOB)),
        }
    }

    /// The job-take URL for `batch` jobs.
    pub(super) fn take(&self, batch: usize, job_in_progress: bool) -> Target {
        let mut takes = self.takes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(u) = takes.get(&(batch, job_in_progress)) {
            return Target::Parsed(u.clone());
        }
        match Target::parse(self.env.take_url(batch, job_in_progress)) {
            Target::Parsed(u) => {
                takes.insert((batch, job_in_progress), u.clone());
                Target::Parsed(u)
            }
            text => text,
        }
    }

    /// A job's result (or progress) URL.
    pub(super) fn done(&self, job: &str, is_stream: bool) -> Target {
        let template = if is_stream {
            &self.done_stream
        } else {
            &self.done
        };
        match template {
            Some(t) if !job.contains(JOB) => Target::Parsed(t.for_job(job)),
            _ => Target::parse(self.env.done_url(job, is_stream)),
        }
    }

    /// A job's stream-chunk URL.
    pub(super) fn stream(&self, job: &str) -> Target {
        match &self.stream {
            Some(t) if !job.contains(JOB) => Target::Parsed(t.for_job(job)),
            _ => Target::parse(self.env.stream_url(job)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> WorkerEnv {
        let vars = [
            (
                "RUNPOD_WEBHOOK_GET_JOB",
                "http://h:1/v2/ep/job-take/$ID?gpu=x",
            ),
            (
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                "http://h:1/v2/ep/job-done/$RUNPOD_POD_ID/$ID?gpu=x",
            ),
            ("RUNPOD_POD_ID", "w1"),
        ];
        WorkerEnv::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    fn text(t: Target) -> String {
        match t {
            Target::Parsed(u) => u.to_string(),
            Target::Text(t) => format!("unparsed: {t}"),
        }
    }

    #[test]
    fn parsed_urls_are_the_ones_the_environment_describes() {
        let env = env();
        let urls = Urls::new(&env);
        for (batch, busy) in [(1, false), (3, true), (1, false)] {
            assert_eq!(
                text(urls.take(batch, busy)),
                env.take_url(batch, busy),
                "take {batch} {busy}"
            );
        }
        for job in ["abc-123-e1", "sync-9f2c"] {
            assert_eq!(text(urls.done(job, false)), env.done_url(job, false));
            assert_eq!(text(urls.done(job, true)), env.done_url(job, true));
            assert_eq!(text(urls.stream(job)), env.stream_url(job));
        }
    }

    #[test]
    fn an_id_with_reserved_characters_stays_in_the_path() {
        let urls = Urls::new(&env());
        let u = text(urls.done("a?b#c d", false));
        assert_eq!(
            u, "http://h:1/v2/ep/job-done/w1/a%3Fb%23c%20d?gpu=x&isStream=false",
            "encoded, not taken for a query or a fragment"
        );
    }

    #[test]
    fn a_template_that_does_not_parse_is_kept_as_text() {
        let mut env = env();
        env.post_output = "not a url/$ID".into();
        let urls = Urls::new(&env);
        assert!(text(urls.done("j1", false)).starts_with("unparsed: not a url/j1"));
    }
}
