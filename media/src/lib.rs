//! `chat-media`: the media processor of attachments ([docs/attachments.md](../../docs/attachments.md)).
//! Each upload a member sends lands in the file store as `uploads/{booking}/{attachment}`; the processor
//! reads what really arrived, keeps it without its metadata (and with a thumbnail) as
//! `files/{booking}/{attachment}/…`, and tells the backend. It runs apart from the message path, as a
//! function of its own on the bucket's upload events, so that neither the proxy's nor the backend's zip
//! carries an image codec.
//!
//! # Layout
//! - [`process`]: what is done to one file, without I/O (types, refusals, re-encoding, thumbnails).

pub mod process;
