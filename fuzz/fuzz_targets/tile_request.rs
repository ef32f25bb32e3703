//! libFuzzer entry for `gridgov::fuzzing::tile_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridgov::fuzzing::tile_request(data));
