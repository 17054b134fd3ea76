pub fn template_xlsx() -> Vec<u8> {
    todo!()
}
pub fn template_csv() -> Vec<u8> {
    todo!()
}
