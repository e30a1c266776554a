//! Black-box tests of the backend: the real startup path on port 0, against SQLite and against a real
//! PostgreSQL started from the machine's binaries. Every test runs once per database.

// Test helpers are `pub` for the sibling modules of this test crate, which is never a library.
#![allow(unreachable_pub)]

mod attachments;
mod auth;
mod concurrency;
mod contacts;
mod dev;
mod direct_ws;
mod edges;
mod edit;
mod events;
mod hardening;
mod helpers;
mod inbox;
mod logs;
mod message_ids;
mod moderation;
mod moderation_store;
mod notification_store;
mod openapi;
mod ops;
mod presence;
mod presend;
mod privacy;
mod rest;
mod safety;
mod search;
mod search_store;
mod service;
mod sessions;
mod socket_events;
mod user_channel;
mod web_push;
