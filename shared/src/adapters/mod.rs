//! The adapters: the AWS services the domain speaks to other than its table.
//!
//! - [`aws`]: the SDK configuration every client shares, and how an AWS failure is told.
//! - [`cloud`]: the customer's account, through STS (and the EC2 fleet behind the `ec2` feature).
//! - [`mail`]: the SES mailer and the invitation email's text.

pub mod aws;
pub mod cloud;
pub mod mail;
