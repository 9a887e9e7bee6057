//! The research agent, end to end, on the local runtime:
//!
//! ```text
//! cargo run --release --example research-agent -- "How much VRAM does a 70B agent need?"
//! ```
//!
//! The same binary serves the SDK's commands for these endpoints: `dev`, `worker`, `manifest`,
//! `deploy --dry-run`.

mod chat_cli;

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use clap::Parser;
use endpoint_sdk::EndpointDef;
use endpoint_sdk::cli::{Cli, Command};
use endpoint_sdk::client::trace::waterfall;
use endpoint_sdk::local::{LocalRuntime, RuntimeEvent, StopReason};
use endpoint_sdk::protocol::{JobFailure, JobStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use research_agent::pipeline::SourceKind;
use research_agent::{AgentEvent, Answer, Question, embed_search, orchestrate, retrieve};
use serde_json::Value;

/// The research agent of the founding blueprint: an orchestrator (A100 80GB) that fans out web
/// retrieval (CPU) and embedding search (RTX 4090), on the local runtime.
#[derive(Debug, Parser)]
#[command(name = "research-agent", args_conflicts_with_subcommands = true)]
struct Args {
    /// `chat`, or an SDK command for these endpoints, instead of a question.
    #[command(subcommand)]
    command: Option<AgentCommand>,
    /// The question to research.
    question: Option<String>,
    /// Research these pages instead of the bundled site (repeat for several).
    #[arg(long = "url", value_name = "URL")]
    urls: Vec<String>,
    /// Make the second retrieval hang, to watch its ceiling end it while the agent answers from
    /// the rest.
    #[arg(long)]
    hang: bool,
    /// The web-retrieval ceiling for this run, in ms (configured: 30_000; try 5000 with --hang).
    #[arg(long, value_name = "MS")]
    retrieval_timeout_ms: Option<u64>,
    /// Simulated cold start of each worker, in ms.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    cold_start_ms: u64,
}

/// The example's own command, and the SDK's.
#[derive(Debug, clap::Subcommand)]
enum AgentCommand {
    /// Talk with the agent turn by turn through its chat endpoint (load-balancing): each turn
    /// stays on the worker that holds the conversation; `/kill` shows it moving.
    Chat(chat_cli::ChatArgs),
    #[command(flatten)]
    Sdk(Command),
}

#[tokio::main]
async fn main() -> endpoint_sdk::Result<()> {
    let mut args = Args::parse();
    match (args.command.take(), args.question.clone()) {
        (Some(AgentCommand::Chat(chat)), _) => chat_cli::chat(chat).await,
        (Some(AgentCommand::Sdk(command)), _) => {
            if matches!(command, Command::Dev(_)) {
                // `dev` researches the bundled site when a request names no URL.
                let site = research_agent::site::serve().await.map_err(io_error)?;
                research_agent::endpoints::set_default_site(site.url.clone());
                println!("bundled site on {}", site.url);
                let result = endpoint_sdk::cli::run(Cli {
                    command: Some(command),
                })
                .await;
                drop(site);
                return result;
            }
            endpoint_sdk::cli::run(Cli {
                command: Some(command),
            })
            .await
        }
        (None, Some(question)) => ask(args, question).await,
        // No question: a worker when the platform's variables are set, else the help.
        (None, None) => endpoint_sdk::cli::run(Cli { command: None }).await,
    }
}

fn io_error(source: std::io::Error) -> endpoint_sdk::Error {
    endpoint_sdk::Error::Io {
        context: "serving the bundled site".into(),
        source,
    }
}

/// What the user sees while the pipeline runs: a line per stage, worker and job events.
struct Progress {
    bars: Option<MultiProgress>,
    /// The current stage: its name, its line, and when it began in the orchestrator (ms).
    stage: Option<(String, ProgressBar, u64)>,
    start: Instant,
    /// The answer so far, as its tokens arrived.
    written: String,
    /// Tokens were printed (without a terminal) and their line is not ended yet.
    line_open: bool,
}

impl Progress {
    fn new() -> Self {
        let bars = std::io::stderr().is_terminal().then(MultiProgress::new);
        Progress {
            bars,
            stage: None,
            start: Instant::now(),
            written: String::new(),
            line_open: false,
        }
    }

    fn line(&self, text: String) {
        match &self.bars {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// A stage began at `at_ms` in the orchestrator (the previous one ended then).
    fn stage(&mut self, name: &str, detail: &str, at_ms: u64) {
        if self.stage.as_ref().is_some_and(|(n, _, _)| n == name) {
            return;
        }
        self.finish_stage(at_ms);
        if name == "done" {
            return;
        }
        let bar = match &self.bars {
            Some(m) => {
                let b = m.add(ProgressBar::new_spinner());
                b.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix:<11} {msg}")
                        .expect("static template"),
                );
                b.set_prefix(name.to_string());
                b.set_message(detail.to_string());
                b.enable_steady_tick(Duration::from_millis(80));
                b
            }
            None => {
                eprintln!("  … {name:<11} {detail}");
                ProgressBar::hidden()
            }
        };
        self.stage = Some((name.to_string(), bar, at_ms));
    }

    fn finish_stage(&mut self, at_ms: u64) {
        if let Some((name, bar, began)) = self.stage.take() {
            let took = Duration::from_millis(at_ms.saturating_sub(began));
            if self.bars.is_some() {
                bar.set_style(
                    ProgressStyle::with_template("  ✔ {prefix:<11} {msg}")
                        .expect("static template"),
                );
                bar.finish_with_message(format!("{} ({} ms)", bar.message(), took.as_millis()));
            } else {
                if std::mem::take(&mut self.line_open) {
                    eprintln!();
                }
                eprintln!("  ✔ {name:<11} done in {} ms", took.as_millis());
            }
        }
    }

    /// A piece of the answer as the model writes it: the end of the answer so far on the
    /// current stage's line (on a terminal), or the piece itself.
    fn token(&mut self, text: &str) {
        if self.written.is_empty() && self.bars.is_none() {
            eprint!("  ✎ ");
        }
        self.written.push_str(text);
        match (&self.bars, &self.stage) {
            (Some(_), Some((_, bar, _))) => {
                let flat = self.written.replace('\n', " ");
                let tail: String = flat
                    .chars()
                    .rev()
                    .take(60)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                bar.set_message(format!("…{tail}"));
            }
            _ => {
                self.line_open = true;
                eprint!("{}", text.replace('\n', " "))
            }
        }
    }

    /// The end: a line break after streamed tokens.
    fn finish(&mut self) {
        if !self.written.is_empty() && self.bars.is_none() {
            eprintln!();
        }
    }

    fn at(&self) -> String {
        format!("{:>6.2}s", self.start.elapsed().as_secs_f64())
    }
}

/// The embedding model, fetched on the first run from this repository's script (the README's
/// one command needs nothing else); without it the search falls back to hashing, and says so.
fn fetch_model() {
    let dir = research_agent::minilm::MiniLm::default_dir();
    if dir.join("model.safetensors").is_file() || std::env::var_os("EMBEDDING_MODEL_DIR").is_some()
    {
        return;
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-model.sh");
    if !script.is_file() {
        return;
    }
    match std::process::Command::new(&script).status() {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!(
            "fetching the embedding model failed ({s}): searching with the hashing fallback"
        ),
        Err(e) => eprintln!(
            "cannot run {}: {e}: searching with the hashing fallback",
            script.display()
        ),
    }
}

async fn ask(args: Args, question: String) -> endpoint_sdk::Result<()> {
    let usage = |m: String| endpoint_sdk::Error::Usage(m);
    fetch_model();
    let site = if args.urls.is_empty() {
        let site = research_agent::site::serve().await.map_err(io_error)?;
        research_agent::endpoints::set_default_site(site.url.clone());
        Some(site)
    } else {
        None
    };
    let mut retrieval = EndpointDef::of::<retrieve>();
    if let Some(ms) = args.retrieval_timeout_ms {
        retrieval.config.execution_timeout_ms = Some(ms);
    }
    let mut builder = LocalRuntime::builder()
        .endpoint::<orchestrate>()
        .definition(retrieval)
        .endpoint::<embed_search>()
        .cold_start(Duration::from_millis(args.cold_start_ms));
    // Subscribed before the runtime starts: the minimum workers' start is part of the story.
    let mut events = builder.events();
    let runtime = builder.build().map_err(|e| usage(e.to_string()))?;

    println!("research-agent: {question}");
    println!("local runtime, the platform's semantics in-process:");
    for c in runtime.configs() {
        println!("  {:<20} {}", c.name, endpoint_sdk::cli::describe(c));
    }
    match &site {
        Some(s) => println!(
            "researching the bundled site at {} (pass --url to research other pages)",
            s.url
        ),
        None => println!("researching {}", args.urls.join(", ")),
    }
    if args.hang {
        println!(
            "fault injected: the second retrieval hangs until its {} ms ceiling ends it",
            runtime
                .configs()
                .iter()
                .find(|c| c.name == "web-retrieval")
                .and_then(|c| c.execution_timeout_ms)
                .unwrap_or(0)
        );
    }
    println!();

    let input = Question {
        question: question.clone(),
        urls: args.urls.clone(),
        hang_retrieval: args.hang.then_some(1),
    };
    // The typed stream: each stage as it begins and the answer's tokens as they are written;
    // worker and job events from the runtime in between.
    let client = runtime.client();
    let mut stream = orchestrate::stream(&client, input);
    let mut progress = Progress::new();
    let mut scaling: Vec<String> = Vec::new();
    loop {
        tokio::select! {
            event = stream.next() => match event {
                Some(Ok(AgentEvent::Stage { stage, detail, at_ms })) => {
                    progress.stage(&stage, &describe_stage(&stage, &detail), at_ms);
                }
                Some(Ok(AgentEvent::Token { text })) => progress.token(&text),
                Some(Err(e)) => {
                    return Err(endpoint_sdk::Error::JobFailed(format!(
                        "the agent's stream broke off: {e}"
                    )));
                }
                None => break,
            },
            Ok(e) = events.recv() => on_runtime_event(e, &progress, &mut scaling),
        }
    }
    progress.finish();
    println!();
    let answer = stream
        .output()
        .await
        .map_err(|e| endpoint_sdk::Error::JobFailed(format!("the agent did not answer: {e}")))?;
    print_answer(&answer);
    println!("\nscaling events:");
    for s in &scaling {
        println!("  {s}");
    }
    runtime.shutdown();
    Ok(())
}

/// One line of the runtime's story: workers starting, ready and stopping, the callees' jobs.
fn on_runtime_event(e: RuntimeEvent, progress: &Progress, scaling: &mut Vec<String>) {
    match e {
        RuntimeEvent::WorkerStarting { endpoint, worker } => {
            scaling.push(format!(
                "{} {endpoint}: worker {worker} starting",
                progress.at()
            ));
        }
        RuntimeEvent::WorkerReady {
            endpoint,
            worker,
            startup,
            ..
        } => {
            let line = format!(
                "{} {endpoint}: worker {worker} ready after {} ms",
                progress.at(),
                startup.as_millis()
            );
            progress.line(format!("  · {line}"));
            scaling.push(line);
        }
        RuntimeEvent::WorkerStopped {
            endpoint,
            worker,
            reason,
        } => {
            let why = match reason {
                StopReason::IdleTimeout => "idle timeout".to_string(),
                other => format!("{other:?}"),
            };
            scaling.push(format!(
                "{} {endpoint}: worker {worker} stopped ({why})",
                progress.at()
            ));
        }
        RuntimeEvent::JobStarted {
            endpoint,
            worker,
            delay,
            ..
        } if &*endpoint != "agent-orchestrator" => {
            progress.line(format!(
                "  · {endpoint}: job started on {worker} after {} ms in the queue",
                delay.as_millis()
            ));
        }
        RuntimeEvent::JobFinished {
            endpoint,
            status,
            execution,
            error,
            ..
        } if &*endpoint != "agent-orchestrator" => {
            let tail = match (status, error) {
                (JobStatus::Completed, _) => String::new(),
                (_, Some(e)) => format!(": {}", JobFailure::from_wire(&e)),
                _ => String::new(),
            };
            progress.line(format!(
                "  · {endpoint}: {status} after {} ms{tail}",
                execution.as_millis()
            ));
        }
        _ => {}
    }
}

/// A stage's line.
fn describe_stage(stage: &str, detail: &Value) -> String {
    match stage {
        "decompose" => format!(
            "splitting the question into sub-queries ({})",
            detail.as_str().unwrap_or("heuristic")
        ),
        "retrieve" => format!(
            "web retrieval ×{} in parallel",
            detail.as_array().map_or(0, Vec::len)
        ),
        "search" => "embedding search over the knowledge base".to_string(),
        "synthesize" => format!("writing the answer from {detail} passages"),
        "critique" => "checking the answer".to_string(),
        _ => String::new(),
    }
}

fn print_answer(a: &Answer) {
    println!("sub-queries:");
    for q in &a.sub_queries {
        println!("  - {q}");
    }
    println!("\nanswer ({}):\n", a.mode);
    if !a.kb_search.is_empty() {
        println!("(knowledge base searched with {})\n", a.kb_search);
    }
    println!("{}", wrap(&a.answer, 96));
    println!("\nsources:");
    for s in a.sources.iter().filter(|s| a.cited.contains(&s.n)) {
        let kind = match s.kind {
            SourceKind::Web => "web",
            SourceKind::KnowledgeBase => "knowledge base",
        };
        println!("  [{}] {} ({kind}) {}", s.n, s.title, s.location);
    }
    println!("\ncritique:");
    for c in &a.critique {
        println!("  - {c}");
    }
    println!("\nfan-out waterfall (░ queued, █ running; one line per call of the orchestrator):");
    print!("{}", waterfall(&a.calls, 40));
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}
