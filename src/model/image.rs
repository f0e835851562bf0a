//! An input image as the model sees it: integer pixel codes, never rescaled. It lives here,
//! below `input` (which reads image files into it), `reference` (which classifies it) and the
//! random generator (which draws it), so none of those has to import another.

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
