//! Input images: the pixels a sensor delivers, and the loaders that read them from files.

/// One image as integer pixel codes, indexed (y, x, c) with the channel fastest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    /// `height * width * channels` pixel codes, each below 2^bits of the model's input.
    pub pixels: Vec<u16>,
}

impl Image {
    pub fn pixel(&self, y: usize, x: usize, c: usize) -> u16 {
        self.pixels[(y * self.width + x) * self.channels + c]
    }
}
