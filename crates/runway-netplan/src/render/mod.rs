//! Renderings of a [`Plan`](crate::Plan): a table for people, JSON for
//! tools, tfvars for Terraform, an SVG map of the address space.

pub mod json;
pub mod svg;
pub mod table;
pub mod tfvars;
