//! Building an ONNX graph: named constant tensors, nodes with attributes, and the shape of
//! every value (qonnx's executor wants every intermediate shape written down).

use super::proto::{
    attribute_type, data_type, AttributeProto, DimValue, Dimension, GraphProto, NodeProto,
    TensorProto, TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto,
};

/// A float32 tensor value's name and shape in a graph being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub name: String,
    pub shape: Vec<usize>,
}

/// Accumulates nodes, initializers and value shapes in order.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    pub graph: GraphProto,
}

impl GraphBuilder {
    /// A float32 initializer of `shape` holding `data` (row-major).
    pub fn floats(&mut self, name: &str, shape: &[usize], data: &[f32]) -> Value {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        self.graph.initializer.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: data_type::FLOAT,
            name: name.to_string(),
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        Value {
            name: name.to_string(),
            shape: shape.to_vec(),
        }
    }

    /// An int64 initializer of `shape` holding `data`.
    pub fn int64s(&mut self, name: &str, shape: &[usize], data: &[i64]) -> String {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        self.graph.initializer.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: data_type::INT64,
            name: name.to_string(),
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        name.to_string()
    }

    /// Append a node writing one float32 output `out` of `shape`, recording its shape.
    pub fn node(
        &mut self,
        op: (&str, &str),
        name: &str,
        inputs: &[&str],
        attrs: Vec<AttributeProto>,
        out: &str,
        shape: &[usize],
    ) -> Value {
        let (domain, op_type) = op;
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.to_string()],
            name: name.to_string(),
            op_type: op_type.to_string(),
            domain: domain.to_string(),
            attribute: attrs,
            ..Default::default()
        });
        self.graph.value_info.push(value_info(out, shape));
        Value {
            name: out.to_string(),
            shape: shape.to_vec(),
        }
    }
}

/// A float32 tensor's type and shape.
pub fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: shape
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(DimValue::Value(d as i64)),
                        })
                        .collect(),
                }),
            }),
        }),
    }
}

pub fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::INT,
        i: Some(v),
        ..Default::default()
    }
}

pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::INTS,
        ints: v.to_vec(),
        ..Default::default()
    }
}

pub fn attr_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::FLOAT,
        f: Some(v),
        ..Default::default()
    }
}

pub fn attr_str(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::STRING,
        s: Some(v.as_bytes().to_vec()),
        ..Default::default()
    }
}
