//! The C ABI: thin, unsafe, no storage logic. Each entry point checks its
//! pointers, calls one core method, converts the result and records the
//! error in the caller's instance.
#![allow(non_snake_case)]

pub mod adapter;
pub mod boundary;
pub mod config;
pub mod dispatch;
pub mod errors;
pub(crate) mod handle;
pub mod iterator;
pub mod per_engine;
pub mod registry;
pub mod transfer;
pub mod types;
