//! The words `<booking-chat>` shows, replaceable for translation through its `strings` property. Dates and
//! times are formatted by `Intl` in the element's language (`lang`).

import type { ReportReason } from "../client/frames.js";

/** Every text the element shows or announces. */
export interface ChatStrings {
  /** The heading, unless the `heading` attribute is set. */
  title: string;
  /** The label of the message list. */
  messages: string;
  /** The label of the text box. */
  input: string;
  placeholder: string;
  send: string;
  connecting: string;
  online: string;
  reconnecting: string;
  /** The device is offline; messages wait in the outbox. */
  offline: string;
  /** Stopped: the user is not a member of the booking. */
  forbidden: string;
  /** Stopped: the booking does not exist. */
  notFound: string;
  /** Stopped: handshakes were refused again and again (shown with a "Try again" button). */
  handshakeRefused: string;
  /** Stopped: the token provider said the user is signed out. */
  signedOut: string;
  /** Stopped: the marketplace removed the user from the booking. */
  removed: string;
  /** The button that connects again after `handshakeRefused`. */
  tryAgain: string;
  /** Stopped by the page. */
  closed: string;
  /** Waiting for the connection; a sentence under the messages while not online. */
  queued: string;
  sending: string;
  failed: string;
  retry: string;
  discard: string;
  seen: string;
  edited: string;
  deleted: string;
  loadOlder: string;
  /** The label of a message's toolbar (reactions, Edit, Delete). */
  actions: string;
  edit: string;
  delete: string;
  save: string;
  cancel: string;
  /** The label of the text box that edits a message. */
  editLabel: string;
  /** Asked before a message is deleted. */
  confirmDelete: string;
  /** The server refused an edit or a delete; its message says why. */
  notSaved: (reason: string) => string;
  /** Who is typing (display names). */
  typing: (users: readonly string[]) => string;
  /** What a screen reader hears when a message arrives. */
  announce: (sender: string, body: string) => string;
  /** The label of a reaction button. */
  react: (emoji: string, count: number) => string;
  /** The booking's status, shown in the header. */
  bookingStatus: (status: string) => string;
  /** Another member's presence, shown in the header: online, or when last seen (`null`: never). */
  presence: (user: string, online: boolean, lastSeen: string | null) => string;
  /** Told to the sender whose message had contact details hidden (until they write again). */
  masked: string;
  /** The chat is read-only (closed by the marketplace, or any reason but `ended`). */
  chatClosed: string;
  /** The chat is read-only because the booking ended. */
  chatEnded: string;
  /** The chat will be read-only from a date (formatted). */
  readOnlyOn: (date: string) => string;
  /** The other member blocked this user. */
  blockedByOther: string;
  /** This user blocked the other member (shown with `unblock`). */
  blockedByMe: string;
  block: string;
  unblock: string;
  /** Asked before blocking. */
  confirmBlock: string;
  /** A message's Report button. */
  report: string;
  /** Asked when a message is reported, and each reason's button (which sends the report). */
  reason: string;
  reasons: Record<ReportReason, string>;
  /** The marketplace received a report (its id). */
  reported: (id: string) => string;
  /** Instead of `deleted`: the marketplace's moderators hid the message, and why. */
  moderated: (reason: string) => string;
  /** The label of the attach button. */
  attach: string;
  /** Shown over the chat while files are dragged over it. */
  drop: string;
  /** The label of a file's Remove button, above the composer. */
  remove: (name: string) => string;
  /** The label of a file's progress bar. */
  uploading: (name: string) => string;
  /** Uploaded; the server is checking it. */
  processing: string;
  /** A file over the largest size (formatted). */
  tooLarge: (max: string) => string;
  /** A file of a type that cannot be attached. */
  fileType: string;
  /** More files than one message may carry. */
  tooMany: (max: number) => string;
  /** The server refused a file, and why. */
  rejected: (reason: string) => string;
  /** The upload did not go through, and what the file store (or the connection) said. */
  uploadFailed: (reason: string) => string;
  /** The button that closes the picture viewer (and the search). */
  close: string;
  /** The label of the header's button that opens the search. */
  search: string;
  /** The label (and placeholder) of the search box. */
  searchLabel: string;
  /** How many results are listed; `more`: the server has more ("More results"). */
  results: (count: number, more: boolean) => string;
  /** Nothing matches the query. */
  noResults: (query: string) => string;
  /** The search failed, and why. */
  searchFailed: (reason: string) => string;
  /** The button that lists the next page of results. */
  moreResults: string;
  /** A chosen result could not be shown (its history did not load), and why. */
  showFailed: (reason: string) => string;
  /** The sender of the user's own messages, in search results. */
  you: string;
}

/** English. */
export const ENGLISH: ChatStrings = {
  title: "Chat",
  messages: "Messages",
  input: "Message",
  placeholder: "Write a message…",
  send: "Send",
  connecting: "Connecting…",
  online: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  forbidden: "You are not a member of this booking.",
  notFound: "This booking does not exist.",
  handshakeRefused: "The chat could not connect.",
  signedOut: "You are signed out.",
  removed: "You are no longer a member of this booking.",
  tryAgain: "Try again",
  closed: "Disconnected.",
  queued: "Messages you write now are sent when the connection is back.",
  sending: "Sending…",
  failed: "Not sent",
  retry: "Retry",
  discard: "Discard",
  seen: "Seen",
  edited: "edited",
  deleted: "Message deleted",
  loadOlder: "Load earlier messages",
  actions: "Message actions",
  edit: "Edit",
  delete: "Delete",
  save: "Save",
  cancel: "Cancel",
  editLabel: "Edit message",
  confirmDelete: "Delete this message?",
  notSaved: (reason) => `Not saved: ${reason}`,
  typing: (users) => (users.length === 1 ? `${users[0]} is typing…` : `${users.join(", ")} are typing…`),
  announce: (sender, body) => `${sender}: ${body}`,
  react: (emoji, count) => (count ? `${emoji} ${count}` : `React with ${emoji}`),
  bookingStatus: (status) => `Booking ${status}`,
  presence: (user, online, lastSeen) => (online ? `${user} is online` : lastSeen ? `${user} was last seen at ${lastSeen}` : ""),
  masked: "Contact details are hidden until the booking is confirmed.",
  chatClosed: "This conversation is closed.",
  chatEnded: "This booking has ended; the conversation is read-only.",
  readOnlyOn: (date) => `This conversation becomes read-only on ${date}.`,
  blockedByOther: "You can't send messages in this conversation.",
  blockedByMe: "You blocked this member.",
  block: "Block",
  unblock: "Unblock",
  confirmBlock: "Block this member?",
  report: "Report",
  reason: "Why report it?",
  reasons: { spam: "Spam", scam: "Scam", harassment: "Harassment", off_platform: "Off-platform contact", inappropriate: "Inappropriate", other: "Other" },
  reported: (id) => `Thank you: report ${id} received.`,
  moderated: (reason) => `Removed by the marketplace: ${reason}`,
  attach: "Attach files",
  drop: "Drop files to attach them",
  remove: (name) => `Remove ${name}`,
  uploading: (name) => `Uploading ${name}`,
  processing: "Processing…",
  tooLarge: (max) => `Too large: at most ${max}`,
  fileType: "Only JPEG, PNG, WebP and PDF files can be attached",
  tooMany: (max) => `At most ${max} files per message`,
  rejected: (reason) => `Not accepted: ${reason}`,
  uploadFailed: (reason) => `Upload failed: ${reason}`,
  close: "Close",
  search: "Search messages",
  searchLabel: "Search this conversation",
  results: (count, more) => (more ? `${count}+ results` : count === 1 ? "1 result" : `${count} results`),
  noResults: (query) => `No messages match “${query}”.`,
  searchFailed: (reason) => `Search failed: ${reason}`,
  moreResults: "More results",
  showFailed: (reason) => `Could not show the message: ${reason}`,
  you: "You",
};
