//! The `wbill` command line.
fn main() {}
