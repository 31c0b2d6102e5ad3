//! A valid component of another world: it must be rejected at load with a clear message.

wit_bindgen::generate!({
    inline: "
        package other:plugin@1.0.0;
        interface greeter { greet: func(name: string) -> string; }
        world plugin { export greeter; }
    ",
    world: "plugin",
});

#[allow(dead_code, reason = "exported only in the wasm build")]
struct Greeter;

impl exports::other::plugin::greeter::Guest for Greeter {
    fn greet(name: String) -> String {
        format!("hello {name}")
    }
}

// Only the component build exports: a native linker version script cannot spell WIT names.
#[cfg(target_arch = "wasm32")]
export!(Greeter);
