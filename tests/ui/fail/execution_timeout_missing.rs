// Every endpoint states its execution ceiling.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-1-2", workers = (0, 2))]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
