// Hygiene: with no prelude and the SDK under another name, every path the attribute generates
// must be absolute (or go through `crate = ".."`). Nothing that generated code might name
// (`String`, `Result`, `Ok`, `serde`, `Endpoint`, `Ctx`...) is imported into the modules that
// define endpoints, so a relative path in the expansion fails to compile here.
#![no_implicit_prelude]

extern crate endpoint_sdk as some_other_name;
extern crate serde;

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Doc {
    pub text: ::std::string::String,
}

#[derive(::std::fmt::Debug, serde::Serialize, serde::Deserialize)]
pub enum DocError {
    Empty,
}

impl ::std::fmt::Display for DocError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str("empty document")
    }
}

pub struct Index;

fn load_index() -> ::std::result::Result<Index, ::std::string::String> {
    ::std::result::Result::Ok(Index)
}

#[some_other_name::endpoint(crate = "some_other_name", cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn ping() -> u32 {
    1
}

#[some_other_name::endpoint(crate = "some_other_name", cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn one(doc: Doc) -> ::std::string::String {
    doc.text
}

#[some_other_name::endpoint(crate = "some_other_name", cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn several(ctx: some_other_name::Ctx, a: u32, b: u32) {
    let _ = (ctx, a, b);
}

#[some_other_name::endpoint(
    crate = "some_other_name",
    gpu = ADA_24,
    init = load_index,
    calls = [ping, one],
    execution_timeout_ms = 60_000
)]
async fn search(
    index: &Index,
    ctx: &some_other_name::Ctx,
    doc: Doc,
    limit: u32,
) -> ::std::result::Result<u32, DocError> {
    let _ = (index, ctx, limit);
    if doc.text.is_empty() {
        ::std::result::Result::Err(DocError::Empty)
    } else {
        ::std::result::Result::Ok(1)
    }
}

// In a module below the root, the SDK is reached through `crate::`.
mod nested {
    #[crate::some_other_name::endpoint(
        crate = "crate::some_other_name",
        cpu = "cpu3c-2-4",
        init = crate::load_index,
        calls = [crate::ping],
        execution_timeout_ms = 20_000
    )]
    pub async fn lookup(
        index: &crate::Index,
        key: ::std::string::String,
        n: u8,
    ) -> ::std::result::Result<::std::string::String, crate::DocError> {
        let _ = (index, n);
        ::std::result::Result::Ok(key)
    }
}

fn main() {
    ::std::assert_eq!(<search as some_other_name::Endpoint>::NAME, "search");
    ::std::assert_eq!(
        <nested::lookup as some_other_name::Endpoint>::CONFIG.calls.len(),
        1
    );
    ::std::assert_eq!(
        <several as some_other_name::Endpoint>::CONFIG.execution_timeout_ms,
        ::std::option::Option::Some(10_000)
    );
}
