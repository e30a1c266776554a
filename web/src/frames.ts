//! `@booking-chat/widget/frames`: the wire frames as types and as shapes, with their validators
//! (`checkServerFrame`, `checkClientFrame`), for tools and tests that check frames as the client reads them.
//! The client itself needs only `parseServerFrame`, so these stay out of its bundle.

export * from "./client/frames.js";
