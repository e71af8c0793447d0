//! The Lambda functions against moto (S3, SQS, Secrets Manager), a local
//! webhook receiver, and, end to end, the real binaries under a local
//! Lambda Runtime API (`runway_testkit::lambda`).

mod alert;
mod support;
mod thumbnail;
