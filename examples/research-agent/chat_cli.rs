//! `research-agent chat`: a conversation with the agent in the terminal, through its chat
//! endpoint (load-balancing) on the local runtime. Each turn goes to the worker that holds the
//! conversation; `/kill` kills that worker, as if its machine died, and the next turn shows the
//! conversation moving and being rehydrated from the session store.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use endpoint_sdk::client::Conversation;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::session::Sessions;
use research_agent::{Answer, agent_chat, embed_search, orchestrate, retrieve};
use serde_json::Value;

/// Options of `chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The conversation's id (its session: reuse it, with a shared SESSION_STORE_URL, to go on
    /// with a conversation later).
    #[arg(long, default_value = "terminal")]
    session: String,
    /// Simulated cold start of each worker, in ms.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    cold_start_ms: u64,
}

fn failed(what: &str, e: impl std::fmt::Display) -> endpoint_sdk::Error {
    endpoint_sdk::Error::Usage(format!("{what}: {e}"))
}

/// Runs the conversation until `/quit` or the end of input.
pub async fn chat(args: ChatArgs) -> endpoint_sdk::Result<()> {
    let site = research_agent::site::serve()
        .await
        .map_err(|e| failed("serving the bundled site", e))?;
    research_agent::endpoints::set_default_site(site.url.clone());
    let sessions = Sessions::from_env().map_err(|e| failed("the session store", e))?;
    let runtime = LocalRuntime::builder()
        .app::<agent_chat>()
        .endpoint::<orchestrate>()
        .endpoint::<retrieve>()
        .endpoint::<embed_search>()
        .sessions(sessions.clone())
        .cold_start(Duration::from_millis(args.cold_start_ms))
        .build()
        .map_err(|e| failed("the local runtime", e))?;
    println!(
        "research-agent chat: conversation `{}`, sessions in {}",
        args.session,
        sessions.store().describe()
    );
    println!("each turn goes to the warm worker that holds the conversation.");
    println!("commands: /kill (kill that worker, as if its machine died), /workers, /quit\n");
    let conv = agent_chat::client(&runtime.client()).conversation(args.session.clone());
    let mut lines = stdin_lines();
    loop {
        print!("you> ");
        let _ = std::io::stdout().flush();
        let Some(line) = lines.recv().await else {
            break;
        };
        let line = line.trim();
        match line {
            "" => continue,
            "/quit" | "/exit" => break,
            "/workers" => {
                let workers = runtime.lb_workers("agent-chat").unwrap_or_default();
                println!("  workers: {}", workers.join(", "));
            }
            "/kill" => match conv.worker() {
                Some(w) => {
                    let _ = runtime.kill_worker("agent-chat", &w);
                    println!("  killed worker {w}: the conversation's memory on it is gone");
                }
                None => println!("  no worker holds the conversation yet"),
            },
            message => {
                if let Err(e) = say(&conv, message).await {
                    println!("  the turn failed: {e}");
                }
            }
        }
    }
    runtime.shutdown();
    drop(site);
    Ok(())
}

/// Standard input's lines, read on a thread of their own.
fn stdin_lines() -> tokio::sync::mpsc::Receiver<String> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// One turn (the endpoint numbers it after the conversation's earlier turns, wherever they
/// were): its events as they come, then the answer.
async fn say(conv: &Conversation, message: &str) -> Result<(), String> {
    let body = serde_json::json!({ "message": message });
    let r = conv
        .post("/turn")
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let worker = r.worker().unwrap_or("?").to_string();
    if let Some(from) = r.moved_from() {
        println!("  (worker {from} is gone: the conversation moved to worker {worker})");
    }
    let mut events = r.events();
    let mut writing = false;
    while let Some(e) = events.next().await {
        let e = e.map_err(|e| format!("the answer was cut off: {e}"))?;
        let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
        match e.event.as_deref() {
            Some("meta") => println!(
                "  [turn {} on worker {}{}]",
                data["turn"],
                data["worker"].as_str().unwrap_or("?"),
                meta_note(&data)
            ),
            Some("stage") => {
                if let Some(s) = data["stage"].as_str().filter(|s| *s != "done") {
                    println!("  · {s}");
                }
            }
            Some("token") => {
                writing = true;
                print!("{}", data.as_str().unwrap_or_default());
                let _ = std::io::stdout().flush();
            }
            Some("checkpointed") if data["replayed"] == true => {
                println!("  (this turn's answer was already in the session store: replayed)");
            }
            Some("answer") => {
                if writing {
                    println!();
                }
                if let Ok(a) = serde_json::from_value::<Answer>(data) {
                    print_answer(&a);
                }
            }
            Some("error") => return Err(data.to_string()),
            Some("done") => break,
            _ => {}
        }
    }
    Ok(())
}

fn meta_note(meta: &Value) -> String {
    if meta["rehydrated"] == true {
        format!(
            "; rehydrated {} earlier turn(s) from the session store",
            meta["turns_restored"]
        )
    } else {
        String::new()
    }
}

fn print_answer(a: &Answer) {
    println!("\nagent> {}", a.answer);
    let cited: Vec<String> = a
        .sources
        .iter()
        .filter(|s| a.cited.contains(&s.n))
        .map(|s| format!("[{}] {}", s.n, s.title))
        .collect();
    if !cited.is_empty() {
        println!("        sources: {}", cited.join("; "));
    }
    println!();
}
