#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scute_fuzz::snapshot(data));
