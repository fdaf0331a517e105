import Testing

@testable import SwitchboardCore

@Suite struct AutomatonTests {
    func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

    func hits(_ terms: [String], in text: String) -> [(String, Int, Int)] {
        let automaton = Automaton(terms: terms.map(scalars))
        var found: [TermHit] = []
        automaton.scan(scalars(text), into: &found)
        return found.map { (terms[Int($0.term)], Int($0.start), Int($0.end)) }
            .sorted { ($0.1, $0.2) < ($1.1, $1.2) }
    }

    @Test func findsOverlappingTermsIncludingSuffixes() {
        let found = hits(["话费", "话费余额", "余额", "费余"], in: "查话费余额")
        #expect(found.map(\.0) == ["话费", "话费余额", "费余", "余额"])
        #expect(found.first! == ("话费", 1, 3))
    }

    @Test func englishTermsMatchWholeWordsOnly() {
        #expect(hits(["bill", "top up"], in: "billing top up").map(\.0) == ["top up"])
        #expect(hits(["bill"], in: "my bill, please").map(\.0) == ["bill"])
        #expect(hits(["5g"], in: "5g套餐 15g").map(\.0) == ["5g"])
    }

    @Test func chineseTermsMatchAnywhereAndUnknownScalarsResetTheScan() {
        #expect(hits(["流量"], in: "流😀量 流量包").count == 1)
        #expect(hits(["冇"], in: "冇冇").count == 2)
    }

    @Test func handlesCharactersOutsideTheBasicPlane() {
        #expect(hits(["😡"], in: "气死了😡😡").count == 2)
    }
}
