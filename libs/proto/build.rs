//! Compiles every .proto under `proto/` with protox (pure Rust: no `protoc` needed).

use std::path::PathBuf;

const FILES: &[&str] = &[
    "magnum/common/v1/common.proto",
    "magnum/identity/v1/identity.proto",
    "magnum/bay/v1/bay.proto",
    "magnum/k8s/v1/k8s.proto",
    "magnum/container/v1/container.proto",
    "magnum/events/v1/events.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(FILES)?;
    std::fs::write(
        out_dir.join("descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(compiler.file_descriptor_set())?;
    for file in FILES {
        println!("cargo:rerun-if-changed={}", proto_root.join(file).display());
    }
    Ok(())
}
