//! Decoding granted scopes from arbitrary claims JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(json) = std::str::from_utf8(rest) else {
        return;
    };
    let delimiter = [' ', ',', ';', char::from(first)][usize::from(first % 4)];
    for scope in tower_bearer::__fuzz::scopes_from_claims(json, delimiter) {
        assert!(tower_bearer::scope::is_valid_scope(&scope));
        assert!(!scope.contains(delimiter));
    }
});
