//! Deployment: the manifest that describes every endpoint of the binary.

pub mod manifest;

pub use manifest::Manifest;
