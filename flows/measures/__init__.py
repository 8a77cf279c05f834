"""What the types are for (issue 20): support measures without applying (免申即享, ``getihu measures``) and the
双随机 inspection sample (``getihu sample``), both read from a published cycle of the warehouse (docs/measures.md)."""
