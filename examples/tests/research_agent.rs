//! The research agent's pipeline on the local runtime: real retrieval from the bundled site over
//! loopback, real embedding search over the knowledge base, an answer that cites both; and the
//! fault demo: a hung retrieval ended by its ceiling while the agent answers from the rest.

use endpoint_sdk::EndpointDef;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::protocol::JobStatus;
use research_agent::pipeline::SourceKind;
use research_agent::{Answer, Question, embed_search, orchestrate, retrieve};

fn runtime(retrieval_timeout_ms: Option<u64>) -> LocalRuntime {
    let mut retrieval = EndpointDef::of::<retrieve>();
    if let Some(ms) = retrieval_timeout_ms {
        retrieval.config.execution_timeout_ms = Some(ms);
    }
    LocalRuntime::builder()
        .endpoint::<orchestrate>()
        .definition(retrieval)
        .endpoint::<embed_search>()
        .build()
        .unwrap()
}

async fn ask(rt: &LocalRuntime, q: Question) -> Answer {
    orchestrate::call(&rt.client(), q).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_cites_the_bundled_site_and_the_knowledge_base() {
    let site = research_agent::site::serve().await.unwrap();
    let rt = runtime(None);
    let a = ask(
        &rt,
        Question {
            question: "How much VRAM does a 70B agent need?".into(),
            urls: vec![site.url.clone()],
            hang_retrieval: None,
        },
    )
    .await;
    assert_eq!(a.sub_queries.len(), 3);
    let cited: Vec<_> = a
        .sources
        .iter()
        .filter(|s| a.cited.contains(&s.n))
        .collect();
    assert!(
        cited
            .iter()
            .any(|s| s.kind == SourceKind::Web && s.location.starts_with(&site.url)),
        "cites a page of the bundled site: {cited:?}"
    );
    assert!(
        cited
            .iter()
            .any(|s| s.kind == SourceKind::KnowledgeBase && s.location.starts_with("kb:")),
        "cites a note of the knowledge base: {cited:?}"
    );
    // The answer quotes the sources' figures about 70B models, with citations.
    assert!(
        a.answer.contains("70B") && a.answer.contains("GB"),
        "{}",
        a.answer
    );
    for n in &a.cited {
        assert!(a.answer.contains(&format!("[{n}]")));
    }
    assert!(a.mode.starts_with("extractive fallback"), "{}", a.mode);
    assert!(a.failures.is_empty(), "{:?}", a.failures);
    // Three retrievals fanned out in parallel, and one search: four calls in the trace.
    let by_endpoint = |e: &str| a.calls.iter().filter(|c| c.endpoint == e).count();
    assert_eq!(
        (
            by_endpoint("web-retrieval"),
            by_endpoint("embedding-search")
        ),
        (3, 1)
    );
    assert!(
        a.calls
            .iter()
            .all(|c| c.status == Some(JobStatus::Completed))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_retrieval_is_ended_by_its_ceiling_and_the_agent_answers_from_the_rest() {
    let site = research_agent::site::serve().await.unwrap();
    let rt = runtime(Some(1_500));
    let a = ask(
        &rt,
        Question {
            question: "What limits how many agent sessions fit on one GPU?".into(),
            urls: vec![site.url.clone()],
            hang_retrieval: Some(1),
        },
    )
    .await;
    let retrievals: Vec<_> = a
        .calls
        .iter()
        .filter(|c| c.endpoint == "web-retrieval")
        .collect();
    assert_eq!(retrievals.len(), 3);
    assert_eq!(
        retrievals
            .iter()
            .filter(|c| c.status == Some(JobStatus::TimedOut))
            .count(),
        1,
        "{retrievals:?}"
    );
    assert_eq!(a.failures.len(), 1, "{:?}", a.failures);
    assert!(a.failures[0].contains("timed out"), "{}", a.failures[0]);
    assert!(
        a.critique.iter().any(|c| c.contains("a retrieval failed")),
        "{:?}",
        a.critique
    );
    assert!(!a.cited.is_empty() && !a.answer.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_cannot_be_fetched_is_reported_not_hidden() {
    let rt = runtime(None);
    let a = ask(
        &rt,
        Question {
            question: "How long do cold starts take?".into(),
            urls: vec!["http://127.0.0.1:9/nothing-here".into()],
            hang_retrieval: None,
        },
    )
    .await;
    assert_eq!(a.failures.len(), 3, "{:?}", a.failures);
    assert!(
        a.failures[0].contains("could not fetch http://127.0.0.1:9/nothing-here"),
        "{}",
        a.failures[0]
    );
    // The knowledge base still answers.
    assert!(
        a.sources
            .iter()
            .all(|s| s.kind == SourceKind::KnowledgeBase)
    );
    assert!(a.answer.contains("seconds"), "{}", a.answer);
}
