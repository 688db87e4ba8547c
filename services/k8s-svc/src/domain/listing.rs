//! Paging and sorting of lists: the shared types (`magnum_common::listing`).

pub use magnum_common::listing::{MAX_PAGE_SIZE, Page, PageRequest, SortDir};
