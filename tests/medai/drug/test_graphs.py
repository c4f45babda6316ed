"""Molecular graphs, the D-MPNN member and its NumPy forward pass."""

import numpy as np
import pytest
from rdkit import Chem

from medai.drug.graphs import ATOM_FEATURES, BOND_FEATURES, GraphNetwork, batch_graphs, graphs_of, to_graph
from medai.drug.message_passing import DirectedMPNN, as_tensors, train_graph_network
from medai.drug.models import Calibration, DenseNetwork, FeatureScaler, PropertyModel


def test_graph_has_each_bond_twice_with_its_reverse_next_to_it():
    graph = to_graph(Chem.MolFromSmiles("CCO"))
    assert graph.atoms.shape == (3, ATOM_FEATURES)
    assert graph.bonds.shape == (4, BOND_FEATURES)
    assert np.array_equal(graph.source[0::2], graph.target[1::2])
    assert np.array_equal(graph.target[0::2], graph.source[1::2])


def test_batch_offsets_atoms_and_keeps_a_bondless_molecule():
    batch = batch_graphs(graphs_of(["C", "CCO", "c1ccccc1"]))
    assert batch.molecules == 3
    assert np.array_equal(np.bincount(batch.molecule), [1, 3, 6])
    assert len(batch.source) == 4 + 12
    assert batch.source.min() >= 1  # methane (atom 0) has no bonds
    assert np.array_equal(batch.source[batch.reverse], batch.target)


def test_a_parent_that_does_not_parse_back_sanitised_still_has_a_graph():
    graphs = graphs_of(["c1cccc1", "[SbH9]"])
    assert [len(g.atoms) for g in graphs] == [5, 1]
    assert len(graphs[0].source) == 10


def test_numpy_forward_matches_the_keras_network():
    batch = batch_graphs(graphs_of(["CC(=O)Oc1ccccc1C(=O)O", "C", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "C[C@H](N)C(=O)O"]))
    network = DirectedMPNN(tasks=2, hidden=32)
    expected = np.asarray(network(*as_tensors(batch)))
    got = GraphNetwork(network.ordered_weights(), network.depth)(batch)
    assert got.shape == (4, 2)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_atom_order_does_not_change_the_output():
    mol = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")
    shuffled = Chem.RenumberAtoms(mol, list(np.random.default_rng(0).permutation(mol.GetNumAtoms()).tolist()))
    network = DirectedMPNN(tasks=1, hidden=16)
    network(*as_tensors(batch_graphs([to_graph(mol)])))  # builds the layers
    forward = GraphNetwork(network.ordered_weights(), network.depth)
    np.testing.assert_allclose(forward(batch_graphs([to_graph(mol)])), forward(batch_graphs([to_graph(shuffled)])),
                               atol=1e-5)


def test_a_short_training_run_learns_a_graph_property():
    """Heteroatom share is a property of the graph alone: a few epochs must rank it well."""
    smiles = ["C" * k + "O" * j for k in range(1, 9) for j in range(0, 4)] + ["c1ccccc1" + "O" * j for j in range(4)]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    share = np.array([[sum(a.GetSymbol() == "O" for a in m.GetAtoms()) / m.GetNumAtoms()] for m in mols], np.float32)
    targets = (share - share.mean()) / share.std()
    network = train_graph_network(graphs_of(smiles), targets, "regression", seed=0, epochs=60)
    predicted = network(batch_graphs(graphs_of(smiles)))[:, 0]
    assert np.corrcoef(predicted, targets[:, 0])[0, 1] > 0.9


def test_a_model_with_graph_networks_needs_the_graphs_and_weighs_each_family_equally():
    network = DirectedMPNN(tasks=1, hidden=8)
    network(*as_tensors(batch_graphs(graphs_of(["C"]))))  # builds the layers
    graph_member = GraphNetwork(network.ordered_weights(), network.depth)
    features = np.zeros((2, 2048 + 3), np.float32)
    scaler = FeatureScaler().fit(features)
    dense = [np.zeros((1024 + 3, 1), np.float32), np.zeros(1, np.float32)]
    model = PropertyModel("m", "1", ["y"], "regression", [DenseNetwork(dense)] * 2, [], scaler, np.zeros(1),
                          np.ones(1), [Calibration()], np.zeros((1, 256), np.uint8), 0.3, [graph_member])
    with pytest.raises(ValueError, match="graph"):
        model.predict(features)
    assert model.predict(features, graphs_of(["CCO", "CCN"]))["y"].value.shape == (2,)
    np.testing.assert_allclose(model.member_weights(), [0.25, 0.25, 0.5])
