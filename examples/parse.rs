fn main() {
    let p = std::env::args().nth(1).unwrap();
    match bnngen::model::load(std::path::Path::new(&p)) {
        Ok(m) => { println!("{:?}", m.summary()); print!("{}", bnngen::model::to_toml(&m)); }
        Err(e) => print!("{e}"),
    }
}
