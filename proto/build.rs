//! Compiles the API with protox (no protoc binary) and keeps the encoded
//! descriptor set for server reflection.

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(["scute/registry/v1/registry.proto"], ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("scute_descriptor.bin"), fds.encode_to_vec())?;
    // Described by reflection only: no code is generated for it.
    let rpc = protox::compile(["google/rpc/error_details.proto"], ["."])?;
    std::fs::write(out.join("rpc_descriptor.bin"), rpc.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=scute");
    println!("cargo:rerun-if-changed=google");
    Ok(())
}
