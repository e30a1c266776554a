//! The email channel: what a notification email says ([`compose`]), and the [`Mailer`] port that sends it,
//! with its adapters:
//! - [`SesMailer`]: Amazon SES v2 (`SendEmail` with the raw MIME message, so that the unsubscribe headers
//!   of RFC 8058 go out as written); moto's SES under `make dev` and in the tests;
//! - [`DirMailer`]: each email as an `.eml` file in a directory (`MAIL_DIR`), to open in a mail client.
//!
//! The MIME message (multipart text and HTML, encoded headers) is built by `lettre`'s builder, a well-kept
//! library, rather than by hand.

use std::path::PathBuf;

use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use chat_store::domain::Booking;
use chat_wire::ChatMessage;
use futures_util::future::BoxFuture;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

/// Most messages an email quotes (the newest); it says how many more are unread.
pub const MAX_QUOTED: usize = 5;

/// Longest quote of one message, in characters.
const MAX_QUOTE_CHARS: usize = 280;

/// One notification email, before MIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The one-click unsubscribe URL (RFC 8058): the `List-Unsubscribe` header and the footer's link.
    pub unsubscribe_url: String,
}

/// What an email is about.
#[derive(Debug, Clone)]
pub struct Digest<'a> {
    /// The booking.
    pub booking: &'a Booking,
    /// The unread messages to quote, oldest first (at most [`MAX_QUOTED`] are).
    pub messages: &'a [ChatMessage],
    /// How many messages are unread in all (at least `messages.len()`).
    pub unread: u32,
    /// Whether `unread` is a cap the count reached: "99+".
    pub unread_capped: bool,
    /// The link to the booking's chat.
    pub booking_url: String,
    /// The one-click unsubscribe link.
    pub unsubscribe_url: String,
}

/// The subject of the email (and the title of a push) for `digest`: how many are unread, about what.
pub fn subject(digest: &Digest<'_>) -> String {
    let unread = digest.unread.max(u32::try_from(digest.messages.len()).unwrap_or(u32::MAX));
    let plus = if digest.unread_capped { "+" } else { "" };
    match unread {
        1 => format!("New message about {}", digest.booking.title),
        n => format!("{n}{plus} new messages about {}", digest.booking.title),
    }
}

/// Who wrote `message`, by their role in the booking (the chat knows no names).
pub fn sender_label(booking: &Booking, message: &ChatMessage) -> &'static str {
    match message.sender_id.as_str() {
        id if id == booking.owner_id => "The owner",
        id if id == booking.renter_id => "The renter",
        _ => "A former member",
    }
}

/// `text`'s first `chars` characters, and an ellipsis when there was more.
pub fn shorten(text: &str, chars: usize) -> String {
    let mut short: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        short.push('…');
    }
    short
}

/// What a notification quotes of a message: its text, shortened, and what it carries ("📎 2 photos"), so
/// that a message of files alone is not quoted as nothing. Never a file's name: names are not masked, and
/// an email leaves the marketplace.
pub fn preview(message: &ChatMessage, chars: usize) -> String {
    let attachments = &message.attachments;
    let photos = attachments.iter().filter(|a| a.content_type.starts_with("image/")).count();
    let files = match (photos, attachments.len()) {
        (_, 0) => return shorten(&message.body, chars),
        (1, 1) => "📎 a photo".to_owned(),
        (p, n) if p == n => format!("📎 {n} photos"),
        (_, 1) => "📎 a file".to_owned(),
        (_, n) => format!("📎 {n} files"),
    };
    if message.body.trim().is_empty() {
        files
    } else {
        format!("{} ({files})", shorten(&message.body, chars))
    }
}

/// The email for `digest`, to `to`.
pub fn compose(to: &str, digest: &Digest<'_>) -> Email {
    let Digest { booking, messages, booking_url, unsubscribe_url, .. } = digest;
    let unread = digest.unread.max(u32::try_from(messages.len()).unwrap_or(u32::MAX));
    let plus = if digest.unread_capped { "+" } else { "" };
    let subject = subject(digest);
    let quoted = &messages[messages.len().saturating_sub(MAX_QUOTED)..];
    let more = unread as usize - quoted.len();
    let who = |message: &ChatMessage| sender_label(booking, message);
    let quote = |message: &ChatMessage| preview(message, MAX_QUOTE_CHARS);
    let lead = match unread {
        1 => format!("You have an unread message about \"{}\".", booking.title),
        n => format!("You have {n}{plus} unread messages about \"{}\".", booking.title),
    };
    let footer =
        "You get this email because someone wrote to you in a booking's chat and you had not read it.";

    let mut text = format!("{lead}\n\n");
    for message in quoted {
        text.push_str(&format!("{}: {}\n", who(message), quote(message)));
    }
    if more > 0 {
        text.push_str(&format!("…and {more}{plus} more.\n"));
    }
    text.push_str(&format!(
        "\nRead and reply: {booking_url}\n\n--\n{footer}\nStop these emails: {unsubscribe_url}\n"
    ));

    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.4\"><p>{}</p>",
        escape(&lead)
    );
    for message in quoted {
        html.push_str(&format!(
            "<p><strong>{}</strong><br>{}</p>",
            escape(who(message)),
            escape(&quote(message)).replace('\n', "<br>")
        ));
    }
    if more > 0 {
        html.push_str(&format!("<p>…and {more}{plus} more.</p>"));
    }
    html.push_str(&format!(
        "<p><a href=\"{url}\">Read and reply</a></p><hr><p style=\"font-size:small;color:#555\">{footer}<br>\
         <a href=\"{unsubscribe}\">Stop these emails</a></p></body></html>",
        url = escape(booking_url),
        unsubscribe = escape(unsubscribe_url),
    ));
    Email { to: to.to_owned(), subject, text, html, unsubscribe_url: unsubscribe_url.clone() }
}

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Why an email was not sent. Never carries an address or a message text: SES's error messages name
/// the addresses, so only its error code is kept.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MailError {
    /// The recipient's address or the message could not be formed (it never will be: not retried).
    #[error("the email cannot be formed: {0}")]
    Invalid(String),
    /// SES refused this message for good (`MessageRejected`, `BadRequestException`): not retried.
    #[error("SES rejected the email: {0}")]
    Rejected(String),
    /// Not sent, and it may succeed later: SES answered with another error (throttling, a paused
    /// account), or the request never left. Retried through the queue.
    #[error("sending failed: {0}")]
    Failed(String),
    /// The request may have reached SES but no answer came (a timeout, an unreadable response): whether
    /// the email went out is unknown.
    #[error("no answer from SES: {0}")]
    Unknown(&'static str),
}

impl MailError {
    /// Sorts an SES v2 error by what it says of the email.
    fn from_ses<E: aws_sdk_sesv2::error::ProvideErrorMetadata, R>(
        error: &aws_sdk_sesv2::error::SdkError<E, R>,
    ) -> Self {
        use aws_sdk_sesv2::error::SdkError;
        match error {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("unknown").to_owned();
                match code.as_str() {
                    "MessageRejected" | "BadRequestException" => Self::Rejected(code),
                    _ => Self::Failed(code),
                }
            }
            SdkError::ConstructionFailure(_) => Self::Failed("the request could not be built".to_owned()),
            SdkError::DispatchFailure(_) => Self::Failed("the request could not be sent".to_owned()),
            SdkError::TimeoutError(_) => Self::Unknown("timed out"),
            _ => Self::Unknown("the response could not be read"),
        }
    }
}

/// Sends emails.
pub trait Mailer: Send + Sync + 'static {
    /// Sends `email`.
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>>;
}

/// `List-Unsubscribe` (RFC 2369): where the one-click unsubscribe goes.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post` (RFC 8058): the unsubscribe is one POST, no page to visit.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// `email` from `from` as a MIME message: multipart text and HTML, with the RFC 8058 headers.
///
/// # Errors
/// [`MailError::Invalid`] when the recipient's address does not parse.
pub fn mime(from: &Mailbox, email: &Email) -> Result<Vec<u8>, MailError> {
    let to: Mailbox = email.to.parse().map_err(|e| MailError::Invalid(format!("recipient: {e}")))?;
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .header(ListUnsubscribe(email.unsubscribe_url.clone()))
        .header(ListUnsubscribePost)
        .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
        .map_err(|e| MailError::Invalid(e.to_string()))?;
    Ok(message.formatted())
}

/// Amazon SES v2.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: Mailbox,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// Sends as `from` (an address of a verified identity), reporting to `configuration_set` if any.
    pub fn new(client: aws_sdk_sesv2::Client, from: Mailbox, configuration_set: Option<String>) -> Self {
        Self { client, from, configuration_set }
    }
}

impl Mailer for SesMailer {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let raw = RawMessage::builder()
                .data(Blob::new(mime(&self.from, email)?))
                .build()
                .map_err(|e| MailError::Invalid(e.to_string()))?;
            self.client
                .send_email()
                .from_email_address(self.from.to_string())
                .destination(Destination::builder().to_addresses(email.to.clone()).build())
                .content(EmailContent::builder().raw(raw).build())
                .set_configuration_set_name(self.configuration_set.clone())
                .send()
                .await
                .map_err(|e| MailError::from_ses(&e))?;
            Ok(())
        })
    }
}

/// Each email as a file `<n>-<recipient>.eml` in a directory.
#[derive(Debug, Clone)]
pub struct DirMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl DirMailer {
    /// Writes into `dir` (created when missing), as sent by `from`.
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox) -> Self {
        Self { dir: dir.into(), from }
    }
}

impl Mailer for DirMailer {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let bytes = mime(&self.from, email)?;
            let failed = |e: std::io::Error| MailError::Failed(format!("{}: {e}", self.dir.display()));
            tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
            let safe: String = email
                .to
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
                .collect();
            let name = format!("{}-{safe}.eml", chat_wire::time::now_millis());
            tokio::fs::write(self.dir.join(name), bytes).await.map_err(failed)
        })
    }
}

#[cfg(test)]
mod tests {
    use chat_store::domain::BookingStatus;

    use super::*;

    fn booking() -> Booking {
        Booking {
            id: 7,
            owner_id: "olga".into(),
            renter_id: "rob".into(),
            title: "Canoe <2 days>".into(),
            status: BookingStatus::Requested,
            chat: Default::default(),
        }
    }

    fn message(id: i64, sender: &str, body: &str) -> ChatMessage {
        ChatMessage {
            id,
            booking_id: 7,
            sender_id: sender.into(),
            body: body.into(),
            client_message_id: None,
            created_at: 0,
            reactions: vec![],
            edited_at: None,
            deleted: false,
            moderation: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_message_of_files_is_quoted_by_what_it_carries_never_by_their_names() {
        let file = |name: &str, content_type: &str| chat_wire::Attachment {
            id: "att_0123456789abcdef0123456789abcdef".into(),
            name: name.into(),
            content_type: content_type.into(),
            size: 1,
            status: chat_wire::AttachmentStatus::Ready,
            width: None,
            height: None,
            thumbnail: false,
            reason: None,
        };
        let with = |body: &str, files: Vec<chat_wire::Attachment>| ChatMessage {
            attachments: files,
            ..message(1, "olga", body)
        };
        let photo = || file("call me 0612345678.jpg", "image/jpeg");
        assert_eq!(preview(&with("", vec![photo()]), 20), "📎 a photo");
        assert_eq!(preview(&with("", vec![photo(), photo()]), 20), "📎 2 photos");
        assert_eq!(preview(&with(" ", vec![photo(), file("r.pdf", "application/pdf")]), 20), "📎 2 files");
        assert_eq!(
            preview(&with("The scratch", vec![file("r.pdf", "application/pdf")]), 20),
            "The scratch (📎 a file)"
        );
        assert_eq!(preview(&with("plain", vec![]), 20), "plain");
        assert!(!preview(&with("", vec![photo()]), 20).contains("0612"), "no file name");
    }

    #[test]
    fn the_email_quotes_the_newest_messages_escapes_them_and_links_back_and_out() {
        let messages: Vec<ChatMessage> =
            (1..=7).map(|i| message(i, "olga", &format!("line {i} <b>&"))).collect();
        let digest = Digest {
            booking: &booking(),
            messages: &messages,
            unread: 9,
            unread_capped: false,
            booking_url: "https://m.example/b/7".into(),
            unsubscribe_url: "https://api.example/u?token=t".into(),
        };
        let email = compose("rob@example.com", &digest);
        assert_eq!(email.subject, "9 new messages about Canoe <2 days>");
        let capped =
            compose("rob@example.com", &Digest { unread: 99, unread_capped: true, ..digest.clone() });
        assert_eq!(capped.subject, "99+ new messages about Canoe <2 days>");
        assert!(email.text.contains("The owner: line 7 <b>&"), "{}", email.text);
        assert!(!email.text.contains("line 2 "), "only the newest five are quoted");
        assert!(email.text.contains("…and 4 more."), "{}", email.text);
        assert!(email.html.contains("line 7 &lt;b&gt;&amp;"), "{}", email.html);
        assert!(!email.html.contains("<b>&"), "no markup from a message reaches the HTML");
        assert!(email.html.contains("href=\"https://api.example/u?token=t\""));
        assert!(email.text.contains("https://m.example/b/7"));
    }

    #[test]
    fn the_mime_message_carries_both_parts_and_the_one_click_headers() {
        let messages = [message(1, "rob", "Is the paddle included?")];
        let digest = Digest {
            booking: &booking(),
            messages: &messages,
            unread: 1,
            unread_capped: false,
            booking_url: "https://m.example/b/7".into(),
            unsubscribe_url: "https://api.example/u?token=t".into(),
        };
        let email = compose("olga@example.com", &digest);
        assert_eq!(email.subject, "New message about Canoe <2 days>");
        let from: Mailbox = "Booking chat <chat@example.com>".parse().expect("sender");
        let raw = String::from_utf8(mime(&from, &email).expect("forms")).expect("ascii");
        assert!(raw.contains("List-Unsubscribe: <https://api.example/u?token=t>"), "{raw}");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
        assert!(raw.contains("To: olga@example.com"), "{raw}");
        let bad = Email { to: "not an address".into(), ..email };
        assert!(matches!(mime(&from, &bad), Err(MailError::Invalid(_))));
    }
}
