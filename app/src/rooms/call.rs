//! The browser side of a live room (hydrate only).
