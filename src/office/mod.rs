//! Office files written for people: the review opinion letter as a Word `.docx` an office prints
//! on its letterhead, and registers and reports as Excel `.xlsx`. Pure: data in, bytes out.
