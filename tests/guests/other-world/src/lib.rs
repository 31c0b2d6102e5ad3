//! A valid component of another world: it must be rejected at load with a clear message.

wit_bindgen::generate!({
    inline: "
        package other:plugin@1.0.0;
        interface greeter { greet: func(name: string) -> string; }
        world plugin { export greeter; }
    ",
    world: "plugin",
});

struct Greeter;

impl exports::other::plugin::greeter::Guest for Greeter {
    fn greet(name: String) -> String {
        format!("hello {name}")
    }
}

export!(Greeter);
