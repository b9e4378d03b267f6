//! QR codes of payment links (the `qrcode` crate), as SVG and PNG.

use qrcode::QrCode;
use qrcode::render::svg;

pub fn svg(data: &str) -> String {
    let code = QrCode::new(data.as_bytes()).expect("a link always fits in a QR code");
    code.render::<svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#1d2330"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

pub fn png(data: &str) -> Vec<u8> {
    let code = QrCode::new(data.as_bytes()).expect("a link always fits in a QR code");
    let image = code.render::<image::Luma<u8>>().min_dimensions(480, 480).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encoding a PNG in memory cannot fail");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    #[test]
    fn qr_codes_render_as_svg_and_png() {
        let svg = super::svg("https://pay.example/t/abcdefghijklmnopqrstuv");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
        let png = super::png("https://pay.example/t/abcdefghijklmnopqrstuv");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
