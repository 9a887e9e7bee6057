//! Web retrieval: HTTP GET, HTML to text, passages ranked against a query. From an index page
//! (a page that links to several pages of its own site), the most relevant linked pages are
//! fetched too.

use serde::{Deserialize, Serialize};

use crate::embedding::{cosine, hashing_embedding};
use crate::text;

/// A page, reduced to what retrieval needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Where it came from.
    pub url: String,
    /// Its `<title>` (or first heading).
    pub title: String,
    /// Its text blocks (headings, paragraphs, list items), in order.
    pub blocks: Vec<String>,
    /// Links to pages of the same site: (link text, absolute URL).
    pub links: Vec<(String, String)>,
}

/// A retrieved passage with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// The passage.
    pub text: String,
    /// The page it came from.
    pub url: String,
    /// That page's title.
    pub title: String,
    /// Relevance to the query (0 to about 1.5).
    pub score: f32,
}

/// Why retrieval failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum RetrievalError {
    /// A URL could not be fetched.
    #[error("could not fetch {url}: {message}")]
    Fetch {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// Nothing was given to retrieve from.
    #[error("no URL to retrieve from: pass at least one")]
    NoUrls,
}

/// The origin (`scheme://host:port`) of a URL.
fn origin(url: &str) -> Option<&str> {
    let after = url.find("://")? + 3;
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    Some(&url[..end])
}

/// Resolves `href` against the page at `base`.
pub fn resolve(base: &str, href: &str) -> Option<String> {
    let href = href.split('#').next()?.trim();
    if href.is_empty() || href.starts_with("mailto:") || href.starts_with("javascript:") {
        return None;
    }
    if href.starts_with("http://") || href.starts_with("https://") {
        return Some(href.to_string());
    }
    let origin = origin(base)?;
    if let Some(path) = href.strip_prefix('/') {
        return Some(format!("{origin}/{path}"));
    }
    let dir = match base.rfind('/') {
        Some(i) if i >= origin.len() => &base[..=i],
        _ => return Some(format!("{origin}/{href}")),
    };
    Some(format!("{dir}{href}"))
}

/// Reads a page's title, text blocks and same-site links.
pub fn extract(url: &str, html: &str) -> Page {
    let doc = scraper::Html::parse_document(html);
    let sel = |s: &str| scraper::Selector::parse(s).expect("static selector");
    let clean = |t: String| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let title = doc
        .select(&sel("title"))
        .next()
        .or_else(|| doc.select(&sel("h1")).next())
        .map(|e| clean(e.text().collect()))
        .unwrap_or_else(|| url.to_string());
    // Statements only: paragraphs, list items and table cells, not headings (titles are not
    // findings) nor list items that are only a link (navigation).
    let blocks = doc
        .select(&sel("p, li, td, blockquote"))
        .filter(|e| {
            !e.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|el| matches!(el.name(), "nav" | "footer" | "script" | "style"))
            })
        })
        .filter(|e| {
            let own: String = e.text().collect();
            let linked: String = e.select(&sel("a")).flat_map(|a| a.text()).collect();
            own.trim() != linked.trim() || linked.trim().is_empty()
        })
        .map(|e| clean(e.text().collect()))
        .filter(|t| !t.is_empty())
        .collect();
    let home = origin(url).unwrap_or_default().to_string();
    let mut links: Vec<(String, String)> = Vec::new();
    // Links in the content: navigation and footer links lead to the same pages from everywhere.
    let in_chrome = |e: &scraper::ElementRef| {
        e.ancestors().any(|a| {
            a.value()
                .as_element()
                .is_some_and(|el| matches!(el.name(), "nav" | "footer" | "header"))
        })
    };
    for a in doc.select(&sel("a[href]")).filter(|a| !in_chrome(a)) {
        let Some(abs) = a.value().attr("href").and_then(|h| resolve(url, h)) else {
            continue;
        };
        if origin(&abs) != Some(home.as_str())
            || abs.trim_end_matches('/') == url.trim_end_matches('/')
        {
            continue;
        }
        if !links.iter().any(|(_, u)| *u == abs) {
            links.push((clean(a.text().collect()), abs));
        }
    }
    Page {
        url: url.to_string(),
        title,
        blocks,
        links,
    }
}

/// Fetches and reads a page.
pub async fn fetch(http: &reqwest::Client, url: &str) -> Result<Page, RetrievalError> {
    let fail = |message: String| RetrievalError::Fetch {
        url: url.to_string(),
        message,
    };
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    let html = resp.text().await.map_err(|e| fail(e.to_string()))?;
    Ok(extract(url, &html))
}

/// How relevant `text` is to a query: embedding cosine plus keyword overlap.
pub fn relevance(query_vec: &[f32], query_keywords: &[String], text: &str) -> f32 {
    cosine(query_vec, &hashing_embedding(text)) + 0.5 * text::keyword_overlap(query_keywords, text)
}

/// Retrieves the `k` passages most relevant to `query` from `urls`, following up to
/// `follow` links from index pages.
pub async fn retrieve(
    http: &reqwest::Client,
    query: &str,
    urls: &[String],
    follow: usize,
    k: usize,
) -> Result<(Vec<Passage>, usize), RetrievalError> {
    if urls.is_empty() {
        return Err(RetrievalError::NoUrls);
    }
    let qv = hashing_embedding(query);
    let qk = text::keywords(query);
    let mut pages = Vec::new();
    let mut last_error = None;
    for url in urls {
        match fetch(http, url).await {
            Ok(page) => pages.push(page),
            Err(e) => last_error = Some(e),
        }
    }
    // Follow the most relevant links of index pages.
    let mut linked: Vec<(f32, String)> = pages
        .iter()
        .filter(|p| p.links.len() >= 2)
        .flat_map(|p| p.links.iter())
        .map(|(text, url)| {
            (
                relevance(
                    &qv,
                    &qk,
                    &format!("{text} {}", url.replace(['-', '/', '.'], " ")),
                ),
                url.clone(),
            )
        })
        .collect();
    linked.sort_by(|a, b| b.0.total_cmp(&a.0));
    linked.dedup_by(|a, b| a.1 == b.1);
    let mut set = tokio::task::JoinSet::new();
    for (_, url) in linked
        .into_iter()
        .filter(|(_, u)| !pages.iter().any(|p| p.url == *u))
        .take(follow)
    {
        let http = http.clone();
        set.spawn(async move { fetch(&http, &url).await });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(page)) => pages.push(page),
            Ok(Err(e)) => last_error = Some(e),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    if pages.is_empty() {
        return Err(last_error.unwrap_or(RetrievalError::NoUrls));
    }
    let fetched = pages.len();
    // An index page used to find others is navigation, not evidence (unless it is all there is).
    let is_index = |p: &Page| p.links.len() >= 2;
    let only_indexes = pages.iter().all(is_index);
    let mut passages: Vec<Passage> = Vec::new();
    for page in pages.iter().filter(|p| only_indexes || !is_index(p)) {
        for block in &page.blocks {
            for text in text::passages(block, 2) {
                let score = relevance(&qv, &qk, &text);
                passages.push(Passage {
                    text,
                    url: page.url.clone(),
                    title: page.title.clone(),
                    score,
                });
            }
        }
    }
    passages.sort_by(|a, b| b.score.total_cmp(&a.score));
    passages.truncate(k);
    Ok((passages, fetched))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_and_text_is_extracted() {
        assert_eq!(
            resolve("http://h:1/a/b.html", "c.html").as_deref(),
            Some("http://h:1/a/c.html")
        );
        assert_eq!(
            resolve("http://h:1/a/b.html", "/c.html").as_deref(),
            Some("http://h:1/c.html")
        );
        assert_eq!(
            resolve("http://h:1", "c.html").as_deref(),
            Some("http://h:1/c.html")
        );
        assert_eq!(
            resolve("http://h:1/", "https://x/y").as_deref(),
            Some("https://x/y")
        );
        assert_eq!(resolve("http://h:1/", "#top"), None);
        let page = extract(
            "http://h:1/",
            "<html><head><title>T</title></head><body><nav><a href='/n.html'>Nav</a></nav>\
             <h1>Head</h1><p>Some  text\n here.</p><ul><li><a href='/a.html'>A page</a></li></ul>\
             <a href='https://elsewhere/x'>x</a><footer><p>foot</p></footer></body></html>",
        );
        assert_eq!(page.title, "T");
        assert_eq!(
            page.blocks,
            ["Some text here."],
            "no heading, no link-only item"
        );
        assert_eq!(
            page.links
                .iter()
                .map(|(_, u)| u.as_str())
                .collect::<Vec<_>>(),
            ["http://h:1/a.html"],
            "navigation links are not content links"
        );
    }
}
