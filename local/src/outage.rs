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

/// EC2 as the customer's account may answer where the emulator will not: a role that cannot be
/// assumed, or an EC2 refusal. While a refusal is set, every fleet call fails with it (or only
/// stops, or only the calls for one role: one customer's account refusing).
pub struct RefusingFleet {
    inner: Box<dyn orgs::cloud::Fleet>,
    refusal: std::sync::Mutex<Option<(String, String)>>,
    only_stops: std::sync::atomic::AtomicBool,
    only_role: std::sync::Mutex<Option<String>>,
}

impl RefusingFleet {
    pub fn new(inner: impl orgs::cloud::Fleet + 'static) -> Self {
        Self {
            inner: Box::new(inner),
            refusal: std::sync::Mutex::new(None),
            only_stops: std::sync::atomic::AtomicBool::new(false),
            only_role: std::sync::Mutex::new(None),
        }
    }

    /// While set, the refusal applies to StopInstances alone.
    pub fn refuse_only_stops(&self, only: bool) {
        self.only_stops.store(only, std::sync::atomic::Ordering::SeqCst);
    }

    /// While set, the refusal applies to calls through this role alone (one customer's account).
    pub fn refuse_only_role(&self, role: Option<&str>) {
        if let Ok(mut slot) = self.only_role.lock() {
            *slot = role.map(str::to_owned);
        }
    }

    fn refused_for(&self, target: &orgs::cloud::Target, stop: bool) -> Option<orgs::cloud::CloudError> {
        if self.only_stops.load(std::sync::atomic::Ordering::SeqCst) && !stop {
            return None;
        }
        let only = self.only_role.lock().ok().and_then(|r| r.clone());
        if only.is_some_and(|role| role != target.role_arn.as_str()) {
            return None;
        }
        self.refused()
    }

    pub fn refuse(&self, refusal: Option<(&str, &str)>) {
        if let Ok(mut slot) = self.refusal.lock() {
            *slot = refusal.map(|(c, m)| (c.to_owned(), m.to_owned()));
        }
    }

    fn refused(&self) -> Option<orgs::cloud::CloudError> {
        let refusal = self.refusal.lock().ok().and_then(|r| r.clone());
        refusal.map(|(code, message)| orgs::cloud::CloudError::Refused { code, message })
    }
}

type FleetFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, orgs::cloud::CloudError>> + Send + 'a>>;

impl orgs::cloud::Fleet for RefusingFleet {
    fn find<'a>(
        &'a self,
        target: &'a orgs::cloud::Target,
        cluster: &'a orgs::domain::ClusterId,
    ) -> FleetFuture<'a, Vec<orgs::cloud::Instance>> {
        match self.refused_for(target, false) {
            Some(e) => Box::pin(async move { Err(e) }),
            None => self.inner.find(target, cluster),
        }
    }

    fn launch<'a>(
        &'a self,
        target: &'a orgs::cloud::Target,
        launch: &'a orgs::cloud::Launch,
    ) -> FleetFuture<'a, Vec<String>> {
        match self.refused_for(target, false) {
            Some(e) => Box::pin(async move { Err(e) }),
            None => self.inner.launch(target, launch),
        }
    }

    fn start<'a>(&'a self, target: &'a orgs::cloud::Target, ids: &'a [String]) -> FleetFuture<'a, ()> {
        match self.refused_for(target, false) {
            Some(e) => Box::pin(async move { Err(e) }),
            None => self.inner.start(target, ids),
        }
    }

    fn stop<'a>(&'a self, target: &'a orgs::cloud::Target, ids: &'a [String]) -> FleetFuture<'a, ()> {
        match self.refused_for(target, true) {
            Some(e) => Box::pin(async move { Err(e) }),
            None => self.inner.stop(target, ids),
        }
    }

    fn sync_ports<'a>(
        &'a self,
        target: &'a orgs::cloud::Target,
        cluster: &'a orgs::domain::ClusterId,
        ids: &'a [String],
        ports: &'a [u16],
    ) -> FleetFuture<'a, ()> {
        match self.refused_for(target, false) {
            Some(e) => Box::pin(async move { Err(e) }),
            None => self.inner.sync_ports(target, cluster, ids, ports),
        }
    }

    fn terminate<'a>(&'a self, target: &'a orgs::cloud::Target, ids: &'a [String]) -> FleetFuture<'a, ()> {
        match self.refused_for(target, false) {
            Some(e) => Box::pin(async move { Err(e) }),
            None => self.inner.terminate(target, ids),
        }
    }
}
