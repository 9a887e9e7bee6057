//! The orchestrator's reasoning steps: decompose the question, synthesise an answer from the
//! evidence with citations, critique it. Each step uses the configured chat API, or a clearly
//! labelled extractive fallback that works offline: it quotes the most relevant sentences of
//! the sources (never a canned answer) and checks the result with explicit rules.

use serde::{Deserialize, Serialize};

use crate::embedding::{cosine, hashing_embedding};
use crate::llm::Llm;
use crate::text;

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// A web page fetched by `web-retrieval`.
    Web,
    /// A passage of the internal knowledge base, found by `embedding-search`.
    KnowledgeBase,
}

/// A cited source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Its citation number, `[n]`.
    pub n: usize,
    /// Web page or knowledge base.
    pub kind: SourceKind,
    /// The page's title or the note's title.
    pub title: String,
    /// The URL, or `kb:<note id>`.
    pub location: String,
}

/// A passage of evidence with the number of its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The source's citation number.
    pub source: usize,
    /// The passage.
    pub text: String,
}

/// An answer draft: its text and the sources it cites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The answer, with `[n]` citations.
    pub text: String,
    /// Cited source numbers, in order of first use.
    pub cited: Vec<usize>,
}

/// The questions that ask for a quantity.
fn is_quantitative(q: &str) -> bool {
    let q = q.to_lowercase();
    [
        "how much",
        "how many",
        "how large",
        "how big",
        "size",
        "cost",
        "memory",
        "vram",
    ]
    .iter()
    .any(|k| q.contains(k))
}

/// Whether a sentence states a quantity: a number followed by a unit-like word (`140 GB`,
/// `2.5 GiB`, `90 seconds`, `2 bytes`).
fn has_quantity(sentence: &str) -> bool {
    let w = text::words(sentence);
    w.windows(2).any(|p| {
        p[0].chars().next().is_some_and(|c| c.is_ascii_digit())
            && p[1].chars().all(|c| c.is_ascii_alphabetic())
            && !text::is_stopword(&p[1])
    })
}

/// Three sub-queries from the question, without a language model: the question itself, then
/// two facets chosen by the question's form (a quantity, a comparison, a how-to, or a topic).
pub fn decompose_heuristic(question: &str) -> Vec<String> {
    let q = question.trim().trim_end_matches('?').to_string();
    let kw = text::keywords(&q).join(" ");
    let lower = q.to_lowercase();
    let (a, b) = if is_quantitative(&lower) {
        (
            format!("{kw} components breakdown"),
            format!("{kw} figures examples"),
        )
    } else if lower.contains(" vs ")
        || lower.contains(" or ")
        || lower.contains("compare")
        || lower.contains("better")
    {
        let parts: Vec<&str> = lower
            .split([' '])
            .filter(|w| !text::is_stopword(w))
            .collect();
        let half = parts.len() / 2;
        (
            format!("{} strengths", parts[..half].join(" ")),
            format!("{} strengths", parts[half..].join(" ")),
        )
    } else if lower.starts_with("how to")
        || lower.starts_with("how do")
        || lower.starts_with("how can")
    {
        (format!("{kw} steps"), format!("{kw} pitfalls limits"))
    } else {
        (format!("{kw} overview"), format!("{kw} limits trade-offs"))
    };
    vec![q, a, b]
}

/// Decomposes with the chat API, or the heuristic. Returns the sub-queries and, when the chat
/// API was configured but failed, why the heuristic was used.
pub async fn decompose(llm: Option<&Llm<'_>>, question: &str) -> (Vec<String>, Option<String>) {
    let Some(llm) = llm else {
        return (decompose_heuristic(question), None);
    };
    let system = "You split a research question into exactly three focused web search queries. \
                  Answer with a JSON array of three strings and nothing else.";
    match llm.chat(system, question).await {
        Ok(text) => {
            let json = text
                .find('[')
                .zip(text.rfind(']'))
                .map(|(a, b)| &text[a..=b])
                .unwrap_or(&text);
            match serde_json::from_str::<Vec<String>>(json) {
                Ok(qs) if qs.len() >= 3 => (qs.into_iter().take(3).collect(), None),
                _ => (
                    decompose_heuristic(question),
                    Some(format!(
                        "the chat API's decomposition was not a JSON list of three: {text:.200}"
                    )),
                ),
            }
        }
        Err(e) => (decompose_heuristic(question), Some(e.to_string())),
    }
}

/// The extractive answer: the most relevant sentences of the evidence, chosen for relevance
/// and diversity (maximal marginal relevance), each with its citation. When both kinds of
/// source hold relevant evidence, both are quoted.
pub fn synthesize_extractive(
    question: &str,
    sub_queries: &[String],
    evidence: &[Evidence],
    kinds: &[SourceKind],
) -> Draft {
    struct Cand {
        text: String,
        source: usize,
        vec: Vec<f32>,
        score: f32,
    }
    let mut pool: Vec<(String, usize)> = Vec::new();
    for e in evidence {
        for s in text::sentences(&e.text) {
            // A question (a heading, a link's text) is not an answer.
            if !s.ends_with('?') && !pool.iter().any(|(t, _)| *t == s) {
                pool.push((s, e.source));
            }
        }
    }
    // A query word found in few sentences says more than one found in most (IDF), so
    // `vram` outweighs `agent` when every page talks about agents.
    let idf = |word: &String| -> f32 {
        let with = pool
            .iter()
            .filter(|(t, _)| text::keyword_overlap(std::slice::from_ref(word), t) > 0.0)
            .count() as f32;
        ((pool.len() as f32 + 1.0) / (with + 1.0)).ln() + 1.0
    };
    // A sentence counts by its best match with the question or any sub-query.
    // Each query as (its embedding, its keywords with their IDF weights).
    type Query = (Vec<f32>, Vec<(String, f32)>);
    let queries: Vec<Query> = std::iter::once(question)
        .chain(sub_queries.iter().map(String::as_str))
        .map(|q| {
            let weighted = text::keywords(q).into_iter().map(|k| {
                let w = idf(&k);
                (k, w)
            });
            (hashing_embedding(q), weighted.collect())
        })
        .collect();
    let quantitative = is_quantitative(question);
    let mut cands: Vec<Cand> = Vec::new();
    for (s, source) in pool {
        let vec = hashing_embedding(&s);
        let mut score = queries
            .iter()
            .map(|(qv, words)| {
                let total: f32 = words.iter().map(|(_, w)| w).sum();
                let hit: f32 = words
                    .iter()
                    .filter(|(k, _)| text::keyword_overlap(std::slice::from_ref(k), &s) > 0.0)
                    .map(|(_, w)| w)
                    .sum();
                let overlap = if total > 0.0 { hit / total } else { 0.0 };
                cosine(qv, &vec) + 0.5 * overlap
            })
            .fold(0.0f32, f32::max);
        if quantitative && has_quantity(&s) {
            score += 0.25;
        }
        cands.push(Cand {
            text: s,
            source,
            vec,
            score,
        });
    }
    let top = cands.iter().map(|c| c.score).fold(0.0f32, f32::max);
    cands.retain(|c| c.score >= 0.5 * top);
    let kind_of = |source: usize| kinds.get(source.wrapping_sub(1)).copied();
    let mut chosen: Vec<usize> = Vec::new();
    const PICKS: usize = 6;
    while chosen.len() < PICKS {
        let best = cands
            .iter()
            .enumerate()
            .filter(|(i, _)| !chosen.contains(i))
            .map(|(i, c)| {
                let redundancy = chosen
                    .iter()
                    .map(|&j| cosine(&c.vec, &cands[j].vec))
                    .fold(0.0f32, f32::max);
                (i, 0.7 * c.score - 0.3 * redundancy, redundancy)
            })
            .filter(|(_, _, redundancy)| *redundancy < 0.8)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, _, _)) => chosen.push(i),
            None => break,
        }
    }
    // Quote both the web and the knowledge base when each has relevant evidence.
    for kind in [SourceKind::Web, SourceKind::KnowledgeBase] {
        if chosen
            .iter()
            .any(|&i| kind_of(cands[i].source) == Some(kind))
        {
            continue;
        }
        let best_of_kind = cands
            .iter()
            .enumerate()
            .filter(|(i, c)| !chosen.contains(i) && kind_of(c.source) == Some(kind))
            .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
            .map(|(i, _)| i);
        if let Some(i) = best_of_kind {
            if chosen.len() >= PICKS {
                chosen.pop();
            }
            chosen.push(i);
        }
    }
    let mut cited = Vec::new();
    let lines: Vec<String> = chosen
        .iter()
        .map(|&i| {
            let c = &cands[i];
            if !cited.contains(&c.source) {
                cited.push(c.source);
            }
            format!("{} [{}]", c.text, c.source)
        })
        .collect();
    Draft {
        text: lines.join(" "),
        cited,
    }
}

/// The citation numbers `[n]` in a text, in order of first use.
pub fn citations_in(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('[') {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with(']') {
            let n: usize = digits.parse().unwrap_or(0);
            if n > 0 && !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Synthesises with the chat API, or extractively. Returns the draft and, when the chat API
/// was configured but failed, why the fallback was used.
pub async fn synthesize(
    llm: Option<&Llm<'_>>,
    question: &str,
    sub_queries: &[String],
    evidence: &[Evidence],
    kinds: &[SourceKind],
    on_token: &mut (dyn FnMut(String) + Send),
) -> (Draft, Option<String>) {
    let Some(llm) = llm else {
        return (
            synthesize_extractive(question, sub_queries, evidence, kinds),
            None,
        );
    };
    let listing: Vec<String> = evidence
        .iter()
        .map(|e| format!("[{}] {}", e.source, e.text))
        .collect();
    let system = "Answer the question from the numbered evidence only. Cite every claim with its \
                  evidence number in brackets, like [2]. Be concise and give figures when the \
                  evidence has them. If the evidence is insufficient, say what is missing.";
    let user = format!("Question: {question}\n\nEvidence:\n{}", listing.join("\n"));
    // The answer streams to `on_token` as the model writes it.
    match llm.chat_stream(system, &user, on_token).await {
        Ok(text) => {
            let cited = citations_in(&text);
            (Draft { text, cited }, None)
        }
        Err(e) => (
            synthesize_extractive(question, sub_queries, evidence, kinds),
            Some(e.to_string()),
        ),
    }
}

/// Checks a draft with explicit rules: the question's keywords it does not cover, the spread of
/// the figures it quotes, the mix of sources, and the retrievals that failed.
pub fn critique_rules(
    question: &str,
    draft: &Draft,
    kinds: &[SourceKind],
    failures: &[String],
) -> Vec<String> {
    let mut notes = Vec::new();
    let missing: Vec<String> = text::keywords(question)
        .into_iter()
        .filter(|k| text::keyword_overlap(std::slice::from_ref(k), &draft.text) == 0.0)
        .collect();
    if !missing.is_empty() {
        notes.push(format!(
            "not covered by the quoted evidence: {}",
            missing.join(", ")
        ));
    }
    let figures: Vec<f64> = text::words(&draft.text)
        .windows(2)
        .filter(|w| matches!(w[1].as_str(), "gb" | "gib"))
        .filter_map(|w| w[0].replace(',', "").parse::<f64>().ok())
        .collect();
    if figures.len() >= 2 {
        let lo = figures.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = figures.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if hi > lo * 1.5 {
            notes.push(format!(
                "the figures quoted range from {lo} GB to {hi} GB: they depend on precision, context \
                 length and concurrency, so read each with its condition"
            ));
        }
    }
    let web = draft
        .cited
        .iter()
        .filter(|n| kinds.get(**n - 1) == Some(&SourceKind::Web))
        .count();
    let kb = draft.cited.len() - web;
    notes.push(format!(
        "cites {web} web page(s) and {kb} knowledge-base note(s)"
    ));
    if draft.cited.len() == 1 {
        notes.push("rests on a single source: corroborate before relying on it".to_string());
    }
    for f in failures {
        notes.push(if f.starts_with("web retrieval") {
            format!(
                "a retrieval failed and its sub-question is answered from the other sources: {f}"
            )
        } else {
            format!("a step fell back: {f}")
        });
    }
    notes
}

/// Critiques with the chat API (plus the rules), or with the rules alone.
pub async fn critique(
    llm: Option<&Llm<'_>>,
    question: &str,
    draft: &Draft,
    kinds: &[SourceKind],
    failures: &[String],
) -> Vec<String> {
    let mut notes = critique_rules(question, draft, kinds, failures);
    if let Some(llm) = llm {
        let system = "You review an answer for unsupported claims, missing aspects and \
                      contradictions. Reply with at most four short bullet points.";
        let user = format!("Question: {question}\n\nAnswer:\n{}", draft.text);
        match llm.chat(system, &user).await {
            Ok(text) => notes.extend(
                text.lines()
                    .map(|l| {
                        l.trim_start_matches(['-', '*', '•', ' '])
                            .trim()
                            .to_string()
                    })
                    .filter(|l| !l.is_empty()),
            ),
            Err(e) => notes.push(format!("the chat API's critique failed: {e}")),
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposition_gives_three_sub_queries_shaped_by_the_question() {
        let qs = decompose_heuristic("How much VRAM does a 70B agent need?");
        assert_eq!(qs.len(), 3);
        assert_eq!(qs[0], "How much VRAM does a 70B agent need");
        assert!(qs[1].contains("vram 70b agent") && qs[2].contains("figures"));
        let qs = decompose_heuristic("A100 or H100 for inference?");
        assert!(qs[1].contains("a100") && qs[2].contains("h100"), "{qs:?}");
    }

    #[test]
    fn extraction_quotes_relevant_sentences_from_both_kinds_of_source() {
        let evidence = vec![
            Evidence {
                source: 1,
                text: "A 70B model needs about 140 GB in FP16. Cats are nice.".into(),
            },
            Evidence {
                source: 2,
                text: "The KV cache of a 70B model is about 2.5 GiB per 8k session.".into(),
            },
        ];
        let d = synthesize_extractive(
            "How much memory does a 70B model need?",
            &[],
            &evidence,
            &[SourceKind::Web, SourceKind::KnowledgeBase],
        );
        assert!(
            d.text.contains("140 GB in FP16. [1]") && d.text.contains("[2]"),
            "{}",
            d.text
        );
        assert!(!d.text.contains("Cats"));
        assert_eq!(citations_in("a [2] b [10] c [2] d [x]"), [2, 10]);
        let notes = critique_rules(
            "How much memory for 70B?",
            &d,
            &[SourceKind::Web, SourceKind::KnowledgeBase],
            &["timed out".into()],
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("cites 1 web page(s) and 1 knowledge-base")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.contains("timed out")));
    }
}
