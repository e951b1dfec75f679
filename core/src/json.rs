//! JSON into typed values with errors that name the offending field
//! (`jsdata.appid: invalid type: ...`), for every surface that parses JSON.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// `value` as a `T`; the error names the field path when there is one.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}
