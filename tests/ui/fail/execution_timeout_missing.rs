// Every endpoint states its execution ceiling.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2))]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
