//! Black-box tests: the real service over HTTP (and the real binary for the CLI), each story on
//! SQLite and, with `TEST_POSTGRES_URL`, on PostgreSQL.

mod helpers;
/// Word, PDF and other files built in the tests; the converter's own unit tests use them too.
#[path = "../../src/documents/fixtures.rs"]
mod office_files;

mod access;
mod admin;
mod anywhere;
mod auth;
mod browser;
mod cli;
mod contracts;
mod corpus;
mod crash;
mod documents;
mod hardening;
mod input;
mod mail;
mod matrix;
mod ops;
mod review;
mod screening;
mod web;
mod workflow;
