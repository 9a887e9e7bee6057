//! Words, keywords, sentences and passages: the text handling retrieval, search and the
//! extractive fallback share.

/// Words that carry no topic (English function words and question words).
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "but", "by", "can", "could", "do", "does", "doing", "each", "for", "from", "get", "had", "has",
    "have", "how", "i", "if", "in", "into", "is", "it", "its", "just", "many", "may", "more",
    "most", "much", "my", "need", "needs", "no", "not", "of", "on", "one", "or", "other", "our",
    "out", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "to", "too", "up", "use", "used", "using", "very", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "would",
    "you", "your",
];

/// Lower-case words and numbers (`70b`, `2.5`, `fp16` stay whole).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let keeps_number = c == '.'
            && cur.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || keeps_number {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a word carries no topic.
pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.binary_search(&w).is_ok()
}

/// A light stem: plural `s` dropped (`sessions` → `session`, not `gpus`-style acronyms below 4
/// letters).
pub fn stem(w: &str) -> &str {
    if w.len() > 4 && w.ends_with('s') && !w.ends_with("ss") {
        &w[..w.len() - 1]
    } else {
        w
    }
}

/// The topic words of a text, stemmed, in order, without repeats.
pub fn keywords(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(text) {
        if is_stopword(&w) || w.len() < 2 {
            continue;
        }
        let s = stem(&w).to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Splits text into sentences (a period between digits, as in `2.5`, does not end one).
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let ends = matches!(c, '.' | '!' | '?')
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace())
            && !(c == '.'
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()));
        if ends || c == '\n' {
            let s = cur.trim().to_string();
            if s.split_whitespace().count() >= 3 {
                out.push(s);
            }
            cur.clear();
        }
    }
    let s = cur.trim().to_string();
    if s.split_whitespace().count() >= 3 {
        out.push(s);
    }
    out
}

/// Groups sentences into passages of at most `max` sentences.
pub fn passages(text: &str, max: usize) -> Vec<String> {
    sentences(text)
        .chunks(max.max(1))
        .map(|c| c.join(" "))
        .collect()
}

/// The share of `query`'s keywords that appear in `text` (0 to 1).
pub fn keyword_overlap(query: &[String], text: &str) -> f32 {
    if query.is_empty() {
        return 0.0;
    }
    let have: std::collections::HashSet<String> =
        words(text).iter().map(|w| stem(w).to_string()).collect();
    query.iter().filter(|k| have.contains(*k)).count() as f32 / query.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn words_keywords_and_sentences() {
        assert_eq!(
            words("A 70B model: 2.5 GiB, FP16."),
            ["a", "70b", "model", "2.5", "gib", "fp16"]
        );
        assert_eq!(
            keywords("How much VRAM does a 70B agent need?"),
            ["vram", "70b", "agent"]
        );
        let s = sentences("Weights take 140 GB. The cache is 2.5 GiB per session! Why? Short.");
        assert_eq!(
            s,
            ["Weights take 140 GB.", "The cache is 2.5 GiB per session!"]
        );
        assert_eq!(
            passages("One two three. Four five six. Seven eight nine.", 2).len(),
            2
        );
        assert!(keyword_overlap(&keywords("vram agent"), "Agents need VRAM") > 0.99);
    }
}
