//! Attachments (issue 24, [docs/attachments.md](../../../docs/attachments.md)): a member asks for an upload
//! form, the media processor reports what arrived, a message carries ready files, and a member fetches
//! them through URLs signed per request. The files themselves are the [`FileStore`]'s; the records the
//! chat store's ([`chat_store::attachments`]).

use std::sync::Arc;

use chat_files::rules::{AttachmentRules, Refused};
use chat_files::{Disposition, DownloadRequest, FileStore, UploadRequest, keys};
use chat_store::attachments::AttachmentRecord;
use chat_wire::time::now_millis;
use chat_wire::{
    Attachment, AttachmentStatus, AttachmentVariant, BookingId, ChatMessage, ServerFrame, ServerPayload,
    UploadTarget,
};

use super::{Caller, ChatError, ChatService, Reply};

/// Where members' files are kept, and the rules for them.
#[derive(Clone)]
pub struct Files {
    /// The file store.
    pub store: Arc<dyn FileStore>,
    /// Types, sizes, counts, lifetimes.
    pub rules: AttachmentRules,
}

/// What the media processor found in an upload (`POST /api/service/attachments/processed`).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// The file is kept: its real type, size and dimensions.
    Ready {
        /// The type found in the bytes.
        content_type: String,
        /// The stored file's size.
        size: u64,
        /// An image's width, upright.
        width: Option<u32>,
        /// An image's height, upright.
        height: Option<u32>,
        /// Whether a thumbnail was written.
        #[serde(default)]
        thumbnail: bool,
    },
    /// The file is refused; `reason` is shown to the member.
    Rejected {
        /// Why, in words for the member.
        reason: String,
    },
}

/// Longest rejection reason kept.
const MAX_REASON_CHARS: usize = 300;

impl ChatService {
    fn files(&self) -> Result<&Files, ChatError> {
        self.files
            .as_ref()
            .ok_or_else(|| ChatError::Invalid("attachments are not enabled on this chat".into()))
    }

    /// `upload_attachment`: the pending attachment and its form, to the sender.
    pub(super) async fn upload_frame(
        &self,
        caller: Caller<'_>,
        name: &str,
        content_type: &str,
        size: u64,
    ) -> Result<Reply, ChatError> {
        self.admit_writer(caller).await?;
        let (attachment, upload) =
            self.new_upload(caller.booking_id, caller.user_id, name, content_type, size).await?;
        let payload = ServerPayload::Upload { booking_id: caller.booking_id, attachment, upload };
        Ok(Reply::to_sender(ServerFrame::new(payload, now_millis())))
    }

    /// An upload asked for over HTTP: as the frame, for a member who may write in the booking.
    ///
    /// # Errors
    /// As the frame: membership, a closed chat, a block, the declared file refused.
    pub async fn upload(
        &self,
        booking_id: BookingId,
        user_id: &str,
        (name, content_type, size): (&str, &str, u64),
    ) -> Result<(Attachment, UploadTarget), ChatError> {
        self.admit_writer(Caller::http(booking_id, user_id)).await?;
        self.new_upload(booking_id, user_id, name, content_type, size).await
    }

    async fn new_upload(
        &self,
        booking_id: BookingId,
        user_id: &str,
        name: &str,
        content_type: &str,
        size: u64,
    ) -> Result<(Attachment, UploadTarget), ChatError> {
        let files = self.files()?;
        let content_type = content_type.trim().to_ascii_lowercase();
        let name =
            files.rules.check_declared(name, &content_type, size).map_err(|refused| match refused {
                Refused::TooLarge { .. } => ChatError::TooLarge(refused.to_string()),
                other => ChatError::Invalid(other.to_string()),
            })?;
        let attachment = Attachment {
            id: format!("att_{}", uuid::Uuid::new_v4().simple()),
            name,
            content_type,
            size,
            status: AttachmentStatus::Pending,
            width: None,
            height: None,
            thumbnail: false,
            reason: None,
        };
        let key = keys::upload(booking_id, &attachment.id);
        let form = files
            .store
            .upload_form(UploadRequest {
                key: &key,
                content_type: &attachment.content_type,
                max_bytes: size,
                expires_in: files.rules.upload_ttl,
            })
            .await
            .map_err(unavailable)?;
        let record = AttachmentRecord {
            booking_id,
            uploader_id: user_id.to_owned(),
            attachment: attachment.clone(),
            message_id: None,
            created_at: now_millis(),
        };
        self.store.create_attachment(&record).await?;
        let upload = UploadTarget {
            url: form.url,
            method: form.method.to_owned(),
            fields: form.fields,
            expires_at: form.expires_at,
        };
        Ok((attachment, upload))
    }

    /// The media processor's verdict on an upload: the record is finished once, and the uploader's chat
    /// connections of the booking are told. A repeated verdict (the queue delivers at least once)
    /// answers the record as it is and tells no one again.
    ///
    /// # Errors
    /// [`ChatError::Unexpected`]. An unknown attachment is `Ok(None)`.
    pub async fn processed(
        &self,
        booking_id: BookingId,
        attachment_id: &str,
        verdict: Verdict,
    ) -> Result<Option<Attachment>, ChatError> {
        let Some(record) = self.store.attachment(booking_id, attachment_id).await? else { return Ok(None) };
        if record.attachment.status != AttachmentStatus::Pending {
            return Ok(Some(record.attachment));
        }
        let mut attachment = record.attachment;
        match verdict {
            Verdict::Ready { content_type, size, width, height, thumbnail } => {
                attachment.status = AttachmentStatus::Ready;
                attachment.content_type = content_type;
                attachment.size = size;
                attachment.width = width;
                attachment.height = height;
                attachment.thumbnail = thumbnail;
            }
            Verdict::Rejected { reason } => {
                attachment.status = AttachmentStatus::Rejected;
                attachment.reason = Some(reason.chars().take(MAX_REASON_CHARS).collect());
            }
        }
        let Some(finished) = self.store.finish_attachment(booking_id, &attachment).await? else {
            return Ok(None);
        };
        // Only the call that finished it tells the uploader.
        if finished.attachment == attachment {
            let payload = ServerPayload::Attachment { booking_id, attachment: attachment.clone() };
            self.notifier
                .notify_member(booking_id, &finished.uploader_id, ServerFrame::new(payload, now_millis()))
                .await;
        }
        Ok(Some(finished.attachment))
    }

    /// The ready attachments a new message of `sender` names, in its order, after marking their files
    /// referenced (so the expiry of unreferenced files spares them from now on). The store claims each
    /// for the message in the same write that stores it. With a `client_message_id` (`may_retry`), an
    /// attachment a message carries already is let through: the store answers a retry with its first
    /// message, and refuses anything else.
    pub(super) async fn attachments_to_send(
        &self,
        booking_id: BookingId,
        sender: &str,
        ids: &[String],
        may_retry: bool,
    ) -> Result<Vec<Attachment>, ChatError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let files = self.files()?;
        if ids.len() > files.rules.per_message {
            return Err(ChatError::Invalid(format!(
                "a message carries at most {} attachments",
                files.rules.per_message
            )));
        }
        let mut attachments = Vec::with_capacity(ids.len());
        for (index, id) in ids.iter().enumerate() {
            if ids[..index].contains(id) {
                return Err(ChatError::Invalid(format!("attachment {id} is named twice")));
            }
            let record = self.store.attachment(booking_id, id).await?;
            attachments.push(sendable(record, id, sender, may_retry)?);
        }
        files.store.mark_referenced(&file_keys(booking_id, &attachments)).await.map_err(unavailable)?;
        Ok(attachments)
    }

    /// `attachment_url`: a URL of one file, for a few minutes, to the sender.
    pub(super) async fn attachment_url_frame(
        &self,
        caller: Caller<'_>,
        attachment_id: &str,
        variant: AttachmentVariant,
    ) -> Result<Reply, ChatError> {
        self.admit(caller).await?;
        let signed = self.signed_url(caller.booking_id, caller.user_id, attachment_id, variant).await?;
        let payload = ServerPayload::AttachmentUrl {
            booking_id: caller.booking_id,
            attachment_id: attachment_id.to_owned(),
            variant,
            url: signed.url,
            expires_at: signed.expires_at,
        };
        Ok(Reply::to_sender(ServerFrame::new(payload, now_millis())))
    }

    /// `get_attachment`: the attachment as it is now, to the sender, in the frame that announces a verdict.
    pub(super) async fn attachment_frame(
        &self,
        caller: Caller<'_>,
        attachment_id: &str,
    ) -> Result<Reply, ChatError> {
        self.admit(caller).await?;
        let attachment = self.visible(caller.booking_id, caller.user_id, attachment_id).await?.attachment;
        let payload = ServerPayload::Attachment { booking_id: caller.booking_id, attachment };
        Ok(Reply::to_sender(ServerFrame::new(payload, now_millis())))
    }

    /// An attachment over HTTP, for a member: its uploader sees it in any state, the other member once a
    /// message carries it.
    ///
    /// # Errors
    /// Membership; [`ChatError::AttachmentNotFound`].
    pub async fn attachment(
        &self,
        booking_id: BookingId,
        user_id: &str,
        attachment_id: &str,
    ) -> Result<Attachment, ChatError> {
        self.member_booking(booking_id, user_id).await?;
        Ok(self.visible(booking_id, user_id, attachment_id).await?.attachment)
    }

    /// A signed URL over HTTP, for a member.
    ///
    /// # Errors
    /// As [`ChatService::attachment`]; a thumbnail of a file that has none.
    pub async fn attachment_url(
        &self,
        booking_id: BookingId,
        user_id: &str,
        attachment_id: &str,
        variant: AttachmentVariant,
    ) -> Result<chat_files::SignedUrl, ChatError> {
        self.admit(Caller::http(booking_id, user_id)).await?;
        self.signed_url(booking_id, user_id, attachment_id, variant).await
    }

    async fn visible(
        &self,
        booking_id: BookingId,
        user_id: &str,
        id: &str,
    ) -> Result<AttachmentRecord, ChatError> {
        match self.store.attachment(booking_id, id).await? {
            Some(record) if record.uploader_id == user_id || record.message_id.is_some() => Ok(record),
            _ => Err(ChatError::AttachmentNotFound),
        }
    }

    async fn signed_url(
        &self,
        booking_id: BookingId,
        user_id: &str,
        id: &str,
        variant: AttachmentVariant,
    ) -> Result<chat_files::SignedUrl, ChatError> {
        let files = self.files()?;
        let attachment = self.visible(booking_id, user_id, id).await?.attachment;
        if attachment.status != AttachmentStatus::Ready {
            return Err(ChatError::Invalid(format!("attachment {id} is not ready")));
        }
        let (key, content_type, disposition) = match variant {
            AttachmentVariant::Thumbnail if !attachment.thumbnail => {
                return Err(ChatError::Invalid(format!("attachment {id} has no thumbnail")));
            }
            AttachmentVariant::Thumbnail => {
                (keys::thumbnail(booking_id, id), "image/jpeg", Disposition::Inline)
            }
            AttachmentVariant::Original => {
                // Images are shown in the page; anything else (a PDF) is saved, never rendered on the
                // file store's origin.
                let inline = attachment.content_type.starts_with("image/");
                let disposition = if inline { Disposition::Inline } else { Disposition::Attachment };
                (keys::original(booking_id, id), attachment.content_type.as_str(), disposition)
            }
        };
        let request = DownloadRequest {
            key: &key,
            content_type,
            file_name: &attachment.name,
            disposition,
            expires_in: files.rules.download_ttl,
        };
        files.store.download_url(request).await.map_err(unavailable)
    }

    /// Deletes the files of a message that has just become a tombstone (`before` is the message as it
    /// was), and their records, so that nothing of them is left to name or sign. Best effort: the message
    /// is gone already; what stays is logged.
    pub(super) async fn delete_files(&self, before: &ChatMessage) {
        let Some(files) = self.files.as_ref().filter(|_| !before.attachments.is_empty()) else { return };
        let keys = file_keys(before.booking_id, &before.attachments);
        if let Err(error) = files.store.delete(&keys).await {
            tracing::error!(error = %error, message_id = before.id, "could not delete a deleted message's files");
            return;
        }
        let ids: Vec<String> = before.attachments.iter().map(|a| a.id.clone()).collect();
        if let Err(error) = self.store.delete_attachments(before.booking_id, &ids).await {
            tracing::error!(error = %error, message_id = before.id, "could not forget a deleted message's files");
        }
    }
}

/// An attachment `sender` may put on a new message: theirs, ready, not too old, and on no message yet
/// (unless the message may be a retry, which the store tells apart).
fn sendable(
    record: Option<AttachmentRecord>,
    id: &str,
    sender: &str,
    may_retry: bool,
) -> Result<Attachment, ChatError> {
    let invalid = |why: &str| Err(ChatError::Invalid(format!("attachment {id} {why}")));
    let max_age = i64::try_from(chat_files::rules::MAX_UNSENT_AGE.as_millis()).unwrap_or(i64::MAX);
    let record = match record {
        Some(r) if r.uploader_id != sender => return invalid("is not one of yours in this booking"),
        None => return invalid("is not one of yours in this booking"),
        Some(r) => r,
    };
    match (record.message_id, record.attachment.status) {
        (Some(_), _) if !may_retry => invalid("is on another message already"),
        (None, _) if now_millis() - record.created_at > max_age => invalid("has expired: upload it again"),
        (_, AttachmentStatus::Ready) => Ok(record.attachment),
        (_, AttachmentStatus::Pending) => invalid("is still being uploaded or checked"),
        (_, AttachmentStatus::Rejected) => invalid("was refused: it cannot be sent"),
    }
}

/// Every file of `attachments`: each original, and the thumbnails there are.
fn file_keys(booking_id: BookingId, attachments: &[Attachment]) -> Vec<String> {
    attachments
        .iter()
        .flat_map(|a| {
            let thumbnail = a.thumbnail.then(|| keys::thumbnail(booking_id, &a.id));
            std::iter::once(keys::original(booking_id, &a.id)).chain(thumbnail)
        })
        .collect()
}

fn unavailable(error: chat_files::FileError) -> ChatError {
    ChatError::FilesUnavailable(error)
}
