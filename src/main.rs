//! gridgov command line.

fn main() {}
