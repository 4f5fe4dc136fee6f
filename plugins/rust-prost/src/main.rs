//! A protoc plugin over prost-build: one `{package}.rs` file per proto package, unformatted (Debian's prost-build
//! has no `format` feature). Parameters, comma-separated:
//!   extern_path=.proto.path=::rust::path   passed to prost-build as is
//!   extern_file=path/to/file.proto=CRATE   that file's package lives in crate CRATE, at the module path of its
//!                                          package (the tree protodepot's crates build: docs/cargo.md)
use std::io::{Read, Write};

use prost::Message;
use prost_build::{Config, Module};
use prost_types::compiler::{code_generator_response, CodeGeneratorRequest, CodeGeneratorResponse};

/// prost's own module naming of a package component, for the components it accepts (lowercase snake case).
fn module_name(component: &str) -> Result<String, String> {
    let valid = component.starts_with(|c: char| c.is_ascii_lowercase())
        && component.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !component.contains("__")
        && !component.ends_with('_');
    if !valid {
        return Err(format!("package component {component:?} is not lowercase snake_case"));
    }
    Ok(match component {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if" | "impl"
        | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref" | "return" | "static"
        | "struct" | "trait" | "true" | "type" | "unsafe" | "use" | "where" | "while" | "dyn" | "abstract"
        | "become" | "box" | "do" | "final" | "macro" | "override" | "priv" | "typeof" | "unsized"
        | "virtual" | "yield" | "async" | "await" | "try" => format!("r#{component}"),
        "self" | "super" | "extern" | "crate" => format!("{component}_"),
        _ => component.to_string(),
    })
}

fn generate(request: &CodeGeneratorRequest) -> Result<Vec<code_generator_response::File>, String> {
    let mut config = Config::new();
    for option in request.parameter().split(',').filter(|o| !o.is_empty()) {
        let (key, value) = option.split_once('=').ok_or(format!("option {option:?} has no '='"))?;
        let (from, to) = value.split_once('=').ok_or(format!("option {option:?}: expected {key}=A=B"))?;
        match key {
            "extern_path" => {
                config.extern_path(from, to);
            }
            "extern_file" => {
                let file = request
                    .proto_file
                    .iter()
                    .find(|f| f.name() == from)
                    .ok_or(format!("extern_file names {from:?}, which the request does not hold"))?;
                let package = file.package();
                // A file without a package cannot be named from another crate; only modules importing it fail.
                if package.is_empty() {
                    continue;
                }
                let mut path = format!("::{to}");
                for component in package.split('.') {
                    path.push_str("::");
                    path.push_str(&module_name(component)?);
                }
                config.extern_path(format!(".{package}"), path);
            }
            _ => return Err(format!("unknown option {key:?} (extern_path, extern_file)")),
        }
    }
    let mut files = Vec::new();
    for name in &request.file_to_generate {
        let fd = request
            .proto_file
            .iter()
            .find(|f| f.name() == name)
            .ok_or(format!("file_to_generate {name:?} is not in proto_file"))?;
        for component in fd.package().split('.').filter(|c| !c.is_empty()) {
            module_name(component)?;
        }
        files.push((Module::from_protobuf_package_name(fd.package()), fd.clone()));
    }
    let modules = config.generate(files).map_err(|e| e.to_string())?;
    // A HashMap: sorted, so the same request always gives the same response.
    let mut out: Vec<code_generator_response::File> = modules
        .into_iter()
        .map(|(module, content)| code_generator_response::File {
            name: Some(module.to_file_name_or("_")),
            content: Some(content),
            ..Default::default()
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("protoc-gen-protodepot-prost {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).expect("read stdin");
    let request = CodeGeneratorRequest::decode(input.as_slice()).expect("decode CodeGeneratorRequest");
    let mut response = CodeGeneratorResponse {
        // proto3 optional fields become Option<T>.
        supported_features: Some(code_generator_response::Feature::Proto3Optional as u64),
        ..Default::default()
    };
    match generate(&request) {
        Ok(files) => response.file = files,
        Err(message) => response.error = Some(message),
    }
    std::io::stdout().write_all(&response.encode_to_vec()).expect("write stdout");
}
