//! The stored form of an object: its JSON bytes (serialized once per write, then copied as is into list and watch
//! answers) plus the metadata the store needs without parsing (name, namespace, uid, resourceVersion, labels,
//! owner uids, finalizers, deletion state) and the byte ranges of `metadata` and `metadata.managedFields`, so
//! metadata-only and managedFields-free renderings are slices of the same bytes.

use serde_json::Value;

use super::meta;

/// One object as kept by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    json: Vec<u8>,
    meta_range: (usize, usize),
    managed_range: Option<(usize, usize)>,
    rv_range: Option<(usize, usize)>,
    /// metadata.name.
    pub name: String,
    /// metadata.namespace ("" when cluster-scoped).
    pub namespace: String,
    /// metadata.uid.
    pub uid: String,
    /// metadata.resourceVersion.
    pub rv: String,
    /// metadata.labels, sorted by key.
    pub labels: Vec<(String, String)>,
    /// uids of metadata.ownerReferences.
    pub owners: Vec<String>,
    /// metadata.finalizers.
    pub finalizers: Vec<String>,
    /// metadata.deletionTimestamp is set.
    pub deleting: bool,
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.extend_from_slice(b"null");
    }
}

impl Stored {
    /// Serialize an object, recording where `metadata` and `managedFields` are.
    pub fn from_value(v: &Value) -> Stored {
        let mut out = Vec::with_capacity(2048);
        let mut meta_range = (0, 0);
        let mut managed = None;
        let mut rv_range = None;
        match v {
            Value::Object(top) => {
                out.push(b'{');
                for (i, (k, val)) in top.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(&mut out, k);
                    out.push(b':');
                    match (k.as_str(), val) {
                        ("metadata", Value::Object(m)) => {
                            let start = out.len();
                            out.push(b'{');
                            for (j, (mk, mv)) in m.iter().enumerate() {
                                let entry_start = out.len();
                                if j > 0 {
                                    out.push(b',');
                                }
                                write_str(&mut out, mk);
                                out.push(b':');
                                let value_start = out.len();
                                write_value(&mut out, mv);
                                if mk == "resourceVersion" {
                                    rv_range = Some((value_start, out.len()));
                                }
                                if mk == "managedFields" {
                                    managed = Some((entry_start, out.len(), j == 0));
                                }
                            }
                            out.push(b'}');
                            meta_range = (start, out.len());
                        }
                        _ => write_value(&mut out, val),
                    }
                }
                out.push(b'}');
            }
            other => write_value(&mut out, other),
        }
        // A leading managedFields entry takes the comma of the entry after it.
        let managed_range = managed.map(|(s, e, first)| {
            if first && out.get(e) == Some(&b',') {
                (s, e + 1)
            } else {
                (s, e)
            }
        });
        let mut labels: Vec<(String, String)> = meta::labels(v)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        // Exact-size copy with room for the real resourceVersion, so `set_rv` never reallocates.
        let mut json = Vec::with_capacity(out.len() + 24);
        json.extend_from_slice(&out);
        Stored {
            json,
            meta_range,
            managed_range,
            rv_range,
            name: meta::name(v).to_string(),
            namespace: meta::namespace(v).to_string(),
            uid: meta::uid(v).to_string(),
            rv: meta::str_at(v, "/metadata/resourceVersion")
                .unwrap_or("")
                .to_string(),
            labels,
            owners: meta::owner_uids(v),
            finalizers: meta::finalizers(v),
            deleting: meta::is_deleting(v),
        }
    }

    /// Set `metadata.resourceVersion` in place (the object must have been serialized with one).
    pub fn set_rv(&mut self, rv: u64) {
        let text = format!("\"{rv}\"");
        if let Some((start, end)) = self.rv_range {
            self.json.splice(start..end, text.bytes());
            let delta = text.len() as isize - (end - start) as isize;
            let shift = |p: usize| {
                if p >= end {
                    (p as isize + delta) as usize
                } else {
                    p
                }
            };
            self.meta_range = (self.meta_range.0, shift(self.meta_range.1));
            self.managed_range = self.managed_range.map(|(a, b)| (shift(a), shift(b)));
            self.rv_range = Some((start, start + text.len()));
            self.rv = rv.to_string();
        }
    }

    /// The object as a JSON value (parsed from the bytes).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }

    /// The full JSON bytes.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// A label value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| self.labels[i].1.as_str())
    }

    /// Append `bytes[range]` minus the managedFields range when `lean`.
    fn write_range(&self, out: &mut Vec<u8>, (start, end): (usize, usize), lean: bool) {
        match self.managed_range {
            Some((ms, me)) if lean && start <= ms && me <= end => {
                out.extend_from_slice(&self.json[start..ms]);
                out.extend_from_slice(&self.json[me..end]);
            }
            _ => out.extend_from_slice(&self.json[start..end]),
        }
    }

    /// Append the object, without `metadata.managedFields` when `lean`.
    pub fn write_object(&self, out: &mut Vec<u8>, lean: bool) {
        self.write_range(out, (0, self.json.len()), lean);
    }

    /// Append the `metadata` object, without `managedFields` when `lean`.
    pub fn write_metadata(&self, out: &mut Vec<u8>, lean: bool) {
        if self.meta_range.1 > self.meta_range.0 {
            self.write_range(out, self.meta_range, lean);
        } else {
            out.extend_from_slice(b"{}");
        }
    }

    /// Approximate heap size in bytes (for diagnostics).
    pub fn heap_size(&self) -> usize {
        self.json.capacity()
            + self
                .labels
                .iter()
                .map(|(k, v)| k.len() + v.len() + 48)
                .sum::<usize>()
            + self.owners.iter().map(|o| o.len() + 24).sum::<usize>()
            + self.name.len()
            + self.namespace.len()
            + self.uid.len()
            + self.rv.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lean_and_metadata_slices_are_valid_json() {
        for meta in [
            json!({ "managedFields": [{ "manager": "m" }], "name": "a" }),
            json!({ "labels": { "x": "y" }, "managedFields": [{ "manager": "m" }] }),
            json!({ "managedFields": [] }),
            json!({ "name": "a" }),
        ] {
            let obj = json!({ "apiVersion": "v1", "metadata": meta, "spec": { "k": 1 } });
            let s = Stored::from_value(&obj);
            assert_eq!(s.value(), obj);
            let mut lean = Vec::new();
            s.write_object(&mut lean, true);
            let lean: Value = serde_json::from_slice(&lean).unwrap_or(Value::Null);
            assert!(lean.pointer("/metadata/managedFields").is_none(), "{lean}");
            assert_eq!(lean["spec"], json!({ "k": 1 }));
            let mut m = Vec::new();
            s.write_metadata(&mut m, true);
            assert!(
                serde_json::from_slice::<Value>(&m).is_ok_and(|m| m.get("managedFields").is_none())
            );
        }
    }
}
