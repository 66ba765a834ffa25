import CHOMAPI
@testable import CHOMCoordinator
import CHOMCore
import Foundation
import Testing

@Suite("Tenant metrics: the coordinator writes every query from a fixed template")
struct SiteSeriesQueryTests {
    let tenant = TenantID(UUID(uuidString: "5b0c3c1e-7a55-4f7e-9a52-2f1b7d0e9c11")!)

    @Test("each series of a site has the site's and tenant's matchers; a tenant's is per site")
    func templates() throws {
        let site = SiteSeriesQuery.Subject.site(domain: "shop.test", tenant: tenant)
        let matchers = #"site="shop.test",tenant="5b0c3c1e-7a55-4f7e-9a52-2f1b7d0e9c11""#
        for series in SiteSeriesQuery.Series.allCases {
            let query = try SiteSeriesQuery(series: series.rawValue, range: "6h", subject: site)
            #expect(query.promQL.contains("{\(matchers)}"), "\(query.promQL)")
            #expect(!query.promQL.contains("by (site"), "\(query.promQL)")
            let whole = try SiteSeriesQuery(series: series.rawValue, range: "6h", subject: .tenant(tenant))
            #expect(whole.promQL.contains(#"{tenant="5b0c3c1e-7a55-4f7e-9a52-2f1b7d0e9c11"}"#), "\(whole.promQL)")
            #expect(whole.promQL.contains("by (site"), "\(whole.promQL)")
        }
        #expect(try SiteSeriesQuery(series: "status", range: nil, subject: site).promQL
            == "sum by (class)(rate(chom_site_requests_total{\(matchers)}[120s]))")
        #expect(try SiteSeriesQuery(series: "health", range: "7d", subject: site).range.stepSeconds == 3600)
    }

    @Test("anything but a name from the fixed sets is refused", arguments: [
        (#"health"} or vector(1) #"#, "1h"), ("health", #"1h] or up[5m"#), ("up", "1h"), ("", "1h"), ("health", "2h"),
        ("HEALTH", "1h"), ("health", "1h "),
    ])
    func refused(series: String, range: String) {
        #expect(throws: CHOMError.self) {
            try SiteSeriesQuery(series: series, range: range, subject: .tenant(tenant))
        }
    }

    @Test("label values are PromQL string literals whatever they hold")
    func quoting() {
        #expect(SiteSeriesQuery.quoted(#"a"b\c"#) == #""a\"b\\c""#)
        #expect(SiteSeriesQuery.quoted("x\ny\r") == #""x\ny\r""#)
        let query = try? SiteSeriesQuery(
            series: "disk", range: "1h", subject: .site(domain: #"x",tenant=~".*"#, tenant: tenant))
        #expect(query?.promQL.contains(#"site="x\",tenant=~\".*""#) == true, "\(query?.promQL ?? "")")
    }

    @Test("a range answer: only site, class and result kept; NaN and malformed points dropped; not a matrix refused")
    func answer() throws {
        let lines = try PrometheusQueryClient.lines(Data(#"""
            {"status":"success","data":{"resultType":"matrix","result":[
              {"metric":{"class":"5xx","instance":"web-1:9464","chom_agent_id":"a"},"values":[[1796432520,"0.5"],[1796432580,"NaN"],[1796432640,"+Inf"],[1796432700,"2"],["bad","1"]]}
            ]}}
            """#.utf8))
        #expect(lines.count == 1 && lines[0].labels == ["class": "5xx"])
        #expect(lines[0].points.map(\.value) == [0.5, 2])
        #expect(throws: CHOMError.self) {
            try PrometheusQueryClient.lines(Data(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.utf8))
        }
        #expect(throws: CHOMError.self) { try PrometheusQueryClient.lines(Data("<html>".utf8)) }
    }
}
