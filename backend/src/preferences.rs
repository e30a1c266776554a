//! Members' notification settings: the domain service behind the settings routes, the mute of a booking,
//! the address the marketplace sets, browsers' Web Push subscriptions, and the unsubscribe link of the emails. The notifier
//! (`chat-notifier`) reads what this keeps, through the same store.
//!
//! Every change is a read, a change and a write conditional on the version read, retried when another
//! change came between ([`notifications::change_settings`], which the notifier uses too): a mute in one
//! tab and quiet hours in another are both kept.

use chat_store::notifications::{self, NotificationSettings, SettingsError, unsubscribe};
use chat_store::push::{PushSettings, PushSubscription};
use secrecy::{ExposeSecret, SecretString};

use crate::chat::ChatError;
use crate::store::Store;

/// What an unsubscribe link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The member the link was for.
    pub user_id: String,
    /// `false` when email was off already (the link was used before, or email turned off since).
    pub changed: bool,
}

/// The service.
#[derive(Clone)]
pub struct Preferences {
    store: Store,
    link_key: Option<SecretString>,
    push: PushSettings,
}

impl Preferences {
    /// Settings kept in `store`; unsubscribe links checked with `link_key` (none: every link refused);
    /// browsers subscribed to Web Push as `push` allows.
    pub fn new(store: Store, link_key: Option<SecretString>, push: PushSettings) -> Self {
        Self { store, link_key, push }
    }

    /// The member's settings (the defaults when they never changed any).
    ///
    /// # Errors
    /// [`ChatError::Unexpected`] when the store fails.
    pub async fn get(&self, user_id: &str) -> Result<NotificationSettings, ChatError> {
        Ok(self.store.notification_settings(user_id).await?.settings)
    }

    /// Applies `change` to the member's settings ([`notifications::change_settings`]); `change` answers
    /// whether it changed anything. The settings afterwards.
    ///
    /// # Errors
    /// [`ChatError::Invalid`] when `change` refuses; [`ChatError::Unexpected`] when the store fails or
    /// other changes keep winning the race.
    pub async fn change(
        &self,
        user_id: &str,
        change: impl Fn(&mut NotificationSettings) -> Result<bool, SettingsError>,
    ) -> Result<NotificationSettings, ChatError> {
        notifications::change_settings(self.store.as_ref(), user_id, |settings| {
            change(settings).map_err(|e| ChatError::Invalid(e.to_string()))
        })
        .await
    }

    /// The public key browsers subscribe with; `None` when this deployment sends no Web Push.
    pub fn push_public_key(&self) -> Option<&str> {
        self.push.public_key.as_deref()
    }

    /// Adds (or renews) a browser's Web Push subscription; the settings afterwards.
    ///
    /// # Errors
    /// [`ChatError::Invalid`] when the endpoint is not on an allowed push service or the keys are
    /// malformed; [`ChatError::Unexpected`] when the store fails.
    pub async fn subscribe_push(
        &self,
        user_id: &str,
        subscription: PushSubscription,
    ) -> Result<NotificationSettings, ChatError> {
        subscription.validate(&self.push.hosts).map_err(|why| ChatError::Invalid(why.to_owned()))?;
        self.change(user_id, |settings| Ok(settings.add_push(subscription.clone()))).await
    }

    /// Removes the subscription of `endpoint` (nothing when there is none); the settings afterwards.
    ///
    /// # Errors
    /// [`ChatError::Unexpected`] when the store fails.
    pub async fn unsubscribe_push(
        &self,
        user_id: &str,
        endpoint: &str,
    ) -> Result<NotificationSettings, ChatError> {
        self.change(user_id, |settings| Ok(settings.remove_push(endpoint))).await
    }

    /// Turns email off for the member an unsubscribe link was made for.
    ///
    /// # Errors
    /// [`ChatError::Invalid`] when the token is not one of ours (or no key is configured);
    /// [`ChatError::Unexpected`] when the store fails.
    pub async fn unsubscribe(&self, token: &str) -> Result<Unsubscribed, ChatError> {
        let user_id = self
            .link_user(token)
            .ok_or_else(|| ChatError::Invalid("this unsubscribe link is not valid".to_owned()))?;
        let changed = std::sync::atomic::AtomicBool::new(false);
        self.change(&user_id, |settings| {
            let was_on = std::mem::replace(&mut settings.email_enabled, false);
            changed.store(was_on, std::sync::atomic::Ordering::Relaxed);
            Ok(was_on)
        })
        .await?;
        Ok(Unsubscribed { user_id, changed: changed.into_inner() })
    }

    /// Whether `token` is a valid link (for the page that confirms before unsubscribing).
    pub fn check_link(&self, token: &str) -> bool {
        self.link_user(token).is_some()
    }

    /// The member a link was made for, if it verifies under this deployment's key.
    fn link_user(&self, token: &str) -> Option<String> {
        self.link_key.as_ref().and_then(|key| unsubscribe::verify(key.expose_secret().as_bytes(), token))
    }
}
