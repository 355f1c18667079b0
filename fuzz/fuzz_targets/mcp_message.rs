//! The MCP guard's reading of a JSON-RPC body: arbitrary bytes never panic, and whatever it
//! accepts, `serde_json::Value` reads the same method and tool from.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((method, tool)) = tower_bearer::__fuzz::mcp_message(data) else {
        return;
    };
    serde_json::from_slice::<serde::de::IgnoredAny>(data).expect("accepted means JSON");
    // Numbers beyond f64 (`1e999`) are JSON that `Value` refuses; the guard skips values it
    // does not read, and such a message names no method or tool `Value` could disagree on.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let object = value.as_object().expect("accepted means one object");
    assert_eq!(object.get("method").and_then(|m| m.as_str()), method.as_deref());
    if method.as_deref() == Some("tools/call") {
        let name = object["params"]["name"].as_str();
        assert_eq!(name, tool.as_deref());
        assert!(tool.is_some());
    } else {
        assert!(tool.is_none());
    }
});
