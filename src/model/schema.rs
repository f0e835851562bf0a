//! The serde schema of the model file, one struct per TOML table. These are the file's words,
//! unchecked; `validate.rs` turns them into a `Model` and `write.rs` builds them back.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provenance: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInput {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub bits: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawFrontEnd {
    Glt {
        /// One set shared by every channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thresholds: Option<Vec<i64>>,
        /// One set per channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel_thresholds: Option<Vec<Vec<i64>>>,
    },
    Uniform {
        levels: i64,
    },
    Binary {},
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPadMode {
    MinusOne,
    PlusOne,
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawResidualOp {
    Or,
    And,
    Xor,
    Xnor,
}

fn one() -> i64 {
    1
}

fn is_one(v: &i64) -> bool {
    *v == 1
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// Declares `RawLayer` with the tiling fields of a weighted layer (`in_blocks`, `out_blocks`,
/// `mask`) written once: a variant written `Kind { head } tiled { tail }` gets them between
/// its `head` and `tail` fields. Serde derives on the plain enum this expands to, so every
/// message is the one a hand-written enum gives, with the accepted fields in file order.
/// (A flattened struct would not: serde's `flatten` drops the "expected one of" list from
/// the unknown-field error that `deny_unknown_fields` raises.)
macro_rules! raw_layer {
    ($(#[$attr:meta])* pub enum $name:ident { $($body:tt)* }) => {
        raw_layer!(@variants [$(#[$attr])* pub enum $name] [] $($body)*);
    };
    (@variants $head:tt [$($done:tt)*]
        $(#[$v:meta])* $variant:ident { $($first:tt)* } tiled { $($rest:tt)* }, $($more:tt)*
    ) => {
        raw_layer!(@variants $head [$($done)*
            $(#[$v])* $variant {
                $($first)*
                #[serde(default = "one", skip_serializing_if = "is_one")]
                in_blocks: i64,
                #[serde(default = "one", skip_serializing_if = "is_one")]
                out_blocks: i64,
                #[serde(default, skip_serializing_if = "Option::is_none")]
                mask: Option<Vec<String>>,
                $($rest)*
            },
        ] $($more)*);
    };
    (@variants $head:tt [$($done:tt)*]
        $(#[$v:meta])* $variant:ident { $($fields:tt)* }, $($more:tt)*
    ) => {
        raw_layer!(@variants $head [$($done)* $(#[$v])* $variant { $($fields)* },] $($more)*);
    };
    (@variants [$($head:tt)*] [$($done:tt)*]) => {
        $($head)* { $($done)* }
    };
}

raw_layer! {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    pub enum RawLayer {
        Conv {
            name: String,
            out_channels: i64,
            /// [height, width]
            kernel: [i64; 2],
            #[serde(default = "one", skip_serializing_if = "is_one")]
            stride: i64,
            #[serde(default, skip_serializing_if = "is_zero")]
            padding: i64,
            pad_mode: RawPadMode,
        } tiled {
            thresholds: Vec<i64>,
            directions: Vec<i64>,
            weights: String,
        },
        Maxpool {
            name: String,
            kernel: i64,
            stride: i64,
        },
        Residual {
            name: String,
            with: String,
            op: RawResidualOp,
        },
        Dense {
            name: String,
            out_features: i64,
        } tiled {
            thresholds: Vec<i64>,
            directions: Vec<i64>,
            weights: String,
        },
        Classifier {
            name: String,
            out_features: i64,
        } tiled {
            bias: Vec<i64>,
            weights: String,
        },
    }
}

/// The whole file, as written back by `write.rs`.
#[derive(Debug, Clone, Serialize)]
pub struct RawModel {
    pub format_version: u32,
    pub meta: RawMeta,
    pub input: RawInput,
    pub front_end: RawFrontEnd,
    pub layers: Vec<RawLayer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields `raw_layer!` gives each weighted kind, in the order its unknown-field
    /// message lists them (the order of the hand-written enum it replaced).
    #[test]
    fn weighted_kinds_accept_their_fields_in_file_order() {
        let cases = [
            (
                "conv",
                "`name`, `out_channels`, `kernel`, `stride`, `padding`, `pad_mode`, \
                 `in_blocks`, `out_blocks`, `mask`, `thresholds`, `directions`, `weights`",
            ),
            (
                "dense",
                "`name`, `out_features`, `in_blocks`, `out_blocks`, `mask`, `thresholds`, \
                 `directions`, `weights`",
            ),
            (
                "classifier",
                "`name`, `out_features`, `in_blocks`, `out_blocks`, `mask`, `bias`, `weights`",
            ),
        ];
        for (kind, fields) in cases {
            let text = format!("kind = \"{kind}\"\nname = \"l\"\nbogus = 1\n");
            let err = toml::from_str::<RawLayer>(&text).unwrap_err().to_string();
            let want = format!("unknown field `bogus`, expected one of {fields}");
            assert!(err.contains(&want), "{kind}: {err}");
        }
    }
}
