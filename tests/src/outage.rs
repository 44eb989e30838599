//! SES with an outage a test can switch on. moto's SES never throttles or goes away, and the
//! refusal it can produce (an unverified sender) is a permanent rejection, so a transient failure
//! comes from this mailer that fails on purpose in front of the real one.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

use orgs::DomainError;
use orgs::mail::{Mailer, OutgoingEmail, SendError, SesMailer};

pub struct OutageMailer {
    ses: SesMailer,
    down: AtomicBool,
}

impl OutageMailer {
    pub fn new(ses: SesMailer) -> Self {
        Self { ses, down: AtomicBool::new(false) }
    }

    /// While down, every send fails as a throttled SES does: transiently.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

impl Mailer for OutageMailer {
    fn send<'a>(
        &'a self,
        email: &'a OutgoingEmail,
        tag: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>> {
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err(SendError::Failed(DomainError::unavailable(
                    "SES SendEmail",
                    "Throttling: Maximum sending rate exceeded (a test's outage)",
                )));
            }
            self.ses.send(email, tag).await
        })
    }
}
