"""The workflow: its rules (`rules`), who may do what (`policies`), every change of state
(`services`) and the records those changes keep (the audit chain, published snapshots, signatures).
"""
