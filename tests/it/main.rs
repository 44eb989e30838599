//! Integration tests: the functions behind the local router, against the emulator.
//! One binary (links once); one emulator per process; one table and router per test.

mod support;

mod administration;
mod authorization;
mod bad_input;
mod cloud_account;
mod cluster_users;
mod clusters;
mod cors;
mod credits;
mod delivery;
mod ec2_query;
mod enrollment;
mod failures;
mod house;
mod iam;
mod invitations;
mod inviters;
mod jwt;
mod local_events;
mod mailer;
mod node_agent;
mod pages;
mod races;
mod roles;
mod round_trips;
mod samples;
mod scheduled;
mod service_accounts;
mod ssh_keys;
mod story;
mod user_data;
mod webhooks;
