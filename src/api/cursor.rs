//! Opaque pagination cursors: base64url of a small JSON document only this module reads. Clients pass
//! `next_cursor` back as `cursor` and must not build cursors themselves.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};

/// Longest cursor accepted.
pub const MAX_LEN: usize = 512;

/// Encode a cursor.
pub fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// Decode a cursor made by [`encode`]; anything else is a 400 about the `cursor` parameter.
pub fn decode<T: DeserializeOwned>(cursor: &str) -> ApiResult<T> {
    let invalid = || ApiError::bad_parameter("cursor", "not a cursor returned by this API");
    if cursor.len() > MAX_LEN {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct After {
        n: String,
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = encode(&After { n: "logs".into() });
        assert_eq!(decode::<After>(&c).unwrap(), After { n: "logs".into() });
        assert_eq!(decode::<After>("!!").unwrap_err().status, 400);
        assert_eq!(decode::<After>(&encode(&42)).unwrap_err().status, 400);
    }
}
